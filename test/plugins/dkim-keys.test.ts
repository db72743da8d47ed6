// DKIM keys on disk: a key made while the server runs is found at the next lookup, and
// a cluster worker (data folder DATA/node-N) finds the keys keygen put in DATA/dkim.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DkimKeyring, dkimFolderOf, dkimRecord, generateDkimKey, saveDkimKey } from '../../src/plugins/dkim-keys.js';
import { tempDir } from '../support/server.js';

describe('DKIM keys', () => {
  it('a keyring sees keys added after it was made', () => {
    const data = tempDir();
    const keyring = new DkimKeyring(data);
    expect(keyring.lookup('example.test')).toBeUndefined();
    saveDkimKey(data, generateDkimKey('Example.TEST', 'sel', 'ed25519'));
    expect(keyring.lookup('example.test')).toMatchObject({ domain: 'example.test', selector: 'sel', algorithm: 'ed25519' });
    saveDkimKey(data, generateDkimKey('other.test', 'sel', 'rsa'));
    expect(keyring.lookup('OTHER.test')?.algorithm).toBe('rsa');
    // A new key for a domain (another selector) replaces the old one.
    saveDkimKey(data, generateDkimKey('example.test', 'sel2', 'rsa'));
    expect(keyring.lookup('example.test')?.selector).toBe('sel2');
  });

  it('a cluster worker reads the deployment\'s keys', () => {
    const data = tempDir();
    const worker = path.join(data, 'node-2');
    mkdirSync(worker);
    saveDkimKey(data, generateDkimKey('example.test', 'sel', 'rsa'));
    expect(dkimFolderOf(worker)).toBe(path.join(data, 'dkim'));
    expect(new DkimKeyring(worker).lookup('example.test')?.selector).toBe('sel');
  });

  it('refuses names that are not a domain or a selector, and renders the record per RFC 6376 / 8463', () => {
    expect(() => generateDkimKey('not a domain', 'sel', 'rsa')).toThrow(/not a domain name/);
    expect(() => generateDkimKey('example.test', 'a b', 'rsa')).toThrow(/not a selector/);
    const ed = dkimRecord(generateDkimKey('example.test', 's', 'ed25519'));
    expect(ed.name).toBe('s._domainkey.example.test');
    expect(Buffer.from(/p=(\S+)$/.exec(ed.value)![1], 'base64')).toHaveLength(32);
  });
});
