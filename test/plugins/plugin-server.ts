// Test support for plugins: a real server in this process whose config file lists
// plugin modules (the .mjs fixtures, written as docs/plugins.md shows), and the
// journal file a fixture appends its observations to.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type FlatSettings } from '../../src/settings.js';
import { startServer } from '../../src/server.js';
import type { Logger } from '../../src/core/logger.js';
import { silentLogger } from '../../src/core/logger.js';
import { adminClient, tempDir, type TestServer } from '../support/server.js';

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface PluginEntry { module: string; options?: Record<string, unknown>; timeout?: number; onError?: 'tempfail' | 'continue' }

export async function startPluginServer(plugins: PluginEntry[], overrides: Partial<FlatSettings> = {}, log: Logger = silentLogger()): Promise<TestServer> {
  const dataDir = tempDir();
  const configFile = path.join(tempDir('ternmail-config-'), 'ternmail.json');
  writeFileSync(configFile, JSON.stringify({ plugins }));
  const config = loadConfig({
    configFile,
    flags: { data: dataDir, smtpPort: 0, submissionPort: 0, pop3Port: 0, imapPort: 0, adminPort: 0, passwordCost: 10, importPasswordCost: 10, retrySchedule: [1], ...overrides },
  });
  const server = await startServer(config, log);
  return { ...server, dataDir, admin: adminClient(server), destroy: () => server.stop() };
}

/** A fixture module by file name, as an absolute path. */
export const fixture = (name: string): string => path.join(fixtures, name);

/** A fresh journal file for a fixture's observations, and a reader of its lines. */
export function journal(): { file: string; lines: () => Array<Record<string, unknown>> } {
  const file = path.join(tempDir('ternmail-journal-'), 'journal.jsonl');
  return {
    file,
    lines: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (l.startsWith('{') ? JSON.parse(l) : { line: l })) : []),
  };
}
