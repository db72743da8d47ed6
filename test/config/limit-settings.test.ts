// The settings of the MIME, disk and SMTP DATA limits: defaults, sizes with units
// (minFreeSpace: "256M"), each source, and errors that name the setting.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/settings.js';

describe('limit settings', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect([config.store.mimeMaxParts, config.store.mimeMaxDepth, config.store.mimeMaxHeaders]).toEqual([1000, 32, 1000]);
    expect(config.store.minFreeSpace).toBe(256 * 1024 * 1024);
    expect(config.smtp.dataTimeout).toBe(600);
  });

  it('reads minFreeSpace as bytes or with K, M, G units, from flags and env', () => {
    expect(loadConfig({ flags: { minFreeSpace: '512K' } }).store.minFreeSpace).toBe(512 * 1024);
    expect(loadConfig({ flags: { minFreeSpace: '1G' } }).store.minFreeSpace).toBe(1024 ** 3);
    expect(loadConfig({ flags: { minFreeSpace: 0 } }).store.minFreeSpace).toBe(0);
    expect(loadConfig({ env: { TERNMAIL_MIN_FREE_SPACE: '100M' } }).store.minFreeSpace).toBe(100 * 1024 ** 2);
    expect(loadConfig({ env: { TERNMAIL_SMTP_DATA_TIMEOUT: '30' } }).smtp.dataTimeout).toBe(30);
  });

  it('names the setting when a value is bad', () => {
    expect(() => loadConfig({ flags: { minFreeSpace: 'lots' } })).toThrow(ConfigError);
    expect(() => loadConfig({ flags: { minFreeSpace: 'lots' } })).toThrow(/minFreeSpace/);
    expect(() => loadConfig({ flags: { mimeMaxParts: '0' } })).toThrow(/mimeMaxParts/);
    expect(() => loadConfig({ env: { TERNMAIL_SMTP_DATA_TIMEOUT: '-1' } })).toThrow(/smtpDataTimeout/);
  });
});
