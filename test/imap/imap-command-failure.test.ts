// A command whose store write throws is answered with a tagged NO and the session goes
// on: NO [LIMIT] when storage is full (ENOSPC, StorageFullError), NO [SERVERBUG] otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandFailure } from '../../src/imap/commands/command.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';

describe('the answer to a command that threw', () => {
  it('is NO [LIMIT] for a full disk, found on the error or its causes', () => {
    const enospc = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
    const full = Object.assign(new Error('disk full'), { name: 'StorageFullError' });
    for (const err of [enospc, full, new Error('batch failed', { cause: new Error('io', { cause: enospc }) })]) {
      expect(commandFailure(err)).toEqual({ status: 'NO', code: { code: 'OVERQUOTA' }, text: 'Not enough disk space, try again later' });
    }
  });

  it('is NO [SERVERBUG] for anything else', () => {
    for (const err of [new Error('boom'), 'a string', undefined, Object.assign(new Error('x'), { code: 'EIO' })]) {
      expect(commandFailure(err)).toMatchObject({ status: 'NO', code: { code: 'SERVERBUG' } });
    }
  });
});

describe('an APPEND whose store write fails', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    await provision(server, 'fail.test', ['cy']);
  });

  afterAll(async () => {
    await server.destroy().catch(() => undefined);
  });

  it('gets NO [SERVERBUG] and the session goes on', async () => {
    const raw = await RawImap.open(server, 'cy@fail.test');
    expect(await raw.run('SELECT INBOX')).toMatch(/OK/);
    // The real database closed under the server: every write from now on fails.
    const store = (server.directory as unknown as { store: { db: { level: { close(): Promise<void> } } } }).store;
    await store.db.level.close();
    const body = 'Subject: lost\r\n\r\nnever stored\r\n';
    expect(await raw.run(`APPEND INBOX {${body.length}+}\r\n${body}`)).toMatch(/t\d+ NO \[SERVERBUG\]/);
    expect(await raw.run('NOOP')).toMatch(/t\d+ OK/);
    raw.close();
  });
});
