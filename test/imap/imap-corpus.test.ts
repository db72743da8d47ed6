// The shared imap-corpus against the real server: compare.py APPENDs every message,
// then asks the Dovecot-answered FETCH and SEARCH questions; every answer must be
// identical except the differences argued in docs/imap-conformance.md.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/clients.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const compareScript = path.resolve(repoRoot, '..', 'shared', 'imap-corpus', 'compare.py');

/** Deliberate differences (docs/imap-conformance.md); each is one `--verbose` line prefix. */
const ALLOWED_DIFFERENCES: string[] = [];

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ maxMessageSize: 10 * 1024 * 1024 });
  await provision(server, 'corpus.test', ['corpus']);
});

afterAll(async () => server.destroy());

describe.skipIf(!existsSync(compareScript))('imap-corpus differential answers', () => {
  it('gives Dovecot\'s answer to every FETCH and SEARCH', async () => {
    const { code, stdout, stderr } = await run('python3', [compareScript, '127.0.0.1', String(server.ports.imap), 'corpus@corpus.test', 'pw', '--verbose']);
    const summary = /imap-corpus: (\d+)\/(\d+) answers identical, (\d+) differ/.exec(stdout);
    expect(summary, `${stdout}\n${stderr}`).not.toBeNull();
    const differences = stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('imap-corpus:') && !line.startsWith('folder '));
    const unexpected = differences.filter((line) => !ALLOWED_DIFFERENCES.some((allowed) => line.includes(allowed)));
    expect(unexpected).toEqual([]);
    expect(Number(summary![3])).toBe(ALLOWED_DIFFERENCES.length);
    expect(code === 0 || ALLOWED_DIFFERENCES.length > 0).toBe(true);
  }, 120_000);
});
