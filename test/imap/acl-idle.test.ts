// A reader idling in a shared folder keeps the owner's mailbox actor loaded: with the
// owner logged out and the idle-actor sweep short, mail delivered to the owner still
// reaches the reader's IDLE (the selection lives in the owner's actor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

let server: TestServer;
const alice = 'alice@acli.test';
const bob = 'bob@acli.test';

beforeAll(async () => {
  server = await startTestServer({ mailboxIdleMs: 300 });
  await provision(server, 'acli.test', ['alice', 'bob']);
});

afterAll(async () => server.destroy());

describe('shared folder selection keeps the owner\'s mailbox loaded', () => {
  it('IDLE sees a delivery after the owner has logged out and the idle sweep ran', async () => {
    const a = await RawImap.open(server, alice);
    expect(await a.run(`SETACL INBOX ${bob} lr`)).toMatch(/OK/);
    await a.run('LOGOUT');
    a.close();
    const b = await RawImap.open(server, bob);
    expect(await b.run(`EXAMINE shared/${alice}/INBOX`)).toContain('* 0 EXISTS');
    b.line.send('i1 IDLE\r\n');
    await b.line.expect(/\+ [^\r\n]*\r\n/);
    // Several sweeps of idle mailbox actors (every second at the least) pass meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await deliver(server, [alice], message('after the sweep'));
    await b.line.expect(/\* 1 EXISTS\r\n/);
    b.line.send('DONE\r\n');
    await b.line.expect(/i1 OK[^\r\n]*\r\n/);
    await b.run('CLOSE');
    b.close();
  });
});
