// `ternmail start --help` and docs/configuration.md come from the section declarations:
// every setting appears in both with its flag and default, and the committed docs file is
// exactly what `npm run docs:config` prints (regenerate it when a setting changes).
import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagName, showValue } from '../../src/config/config.js';
import { configurationReference, sections } from '../../src/settings.js';
import { cli } from '../support/process.js';
import { tempDir } from '../support/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('settings reference', () => {
  it('docs/configuration.md is what the generator prints (run npm run docs:config)', () => {
    expect(readFileSync(path.join(root, 'docs', 'configuration.md'), 'utf8')).toBe(configurationReference());
  });

  it('lists every setting with its flag, variable, legacy key and default', () => {
    const doc = configurationReference();
    for (const section of sections) {
      expect(doc).toContain(`## ${section.name}\n`);
      for (const [name, def] of Object.entries(section.settings)) {
        const row = doc.split('\n').find((line) => line.startsWith(`| \`${section.name}.${name}\` |`));
        expect(row, `${section.name}.${name}`).toBeDefined();
        expect(row).toContain(`\`--${flagName(def.legacy)}`);
        expect(row).toContain(`\`${def.legacy}\``);
        expect(row).toContain(`\`${showValue(def.kind, def.default)}\``);
      }
    }
  });

  it('start --help lists every setting by section, and every one is a flag start takes', async () => {
    const help = (await cli(['start', '--help'])).stdout;
    for (const section of sections) {
      expect(help).toContain(`\n${section.name}: ${section.about}\n`);
      for (const def of Object.values(section.settings)) {
        expect(help).toMatch(new RegExp(`\\n  --${flagName(def.legacy)}(-key)? .*\\(default ${showValue(def.kind, def.default).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)\\n`));
      }
    }
    // A flag start did not take before sections: now parsed and validated like the others.
    const bad = await cli(['start', '--max-recipients', 'many']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('invalid setting maxRecipients (from --max-recipients)');
    // The TLS pair as two flags, like TERNMAIL_TLS_KEY / TERNMAIL_TLS_CERT: read at start.
    const data = tempDir();
    const tls = await cli(['start', '--data', data, '--tls-key', path.join(data, 'no-key.pem'), '--tls-cert', path.join(data, 'no-cert.pem')]);
    expect(tls.code).not.toBe(0);
    expect(tls.stderr).toContain(path.join(data, 'no-key.pem'));
    rmSync(data, { recursive: true, force: true });
  });
});
