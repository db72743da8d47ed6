// Two sessions on one mailbox: \Recent goes to exactly one; flag changes and expunges
// made by one reach the other at its next command, in order, with correct sequence
// numbers (never during FETCH/STORE/SEARCH); RFC 2180 §4.1.1 FETCH of an expunged message;
// IDLE sees an SMTP delivery within a second.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'conc.test', ['dan', 'eve']);
  for (const n of [1, 2, 3, 4]) await deliver(server, ['dan@conc.test'], message(`m${n}`));
});

afterAll(async () => server.destroy());

describe('two IMAP sessions on one mailbox', () => {
  it('reports each other\'s changes in order with correct sequence numbers', async () => {
    const a = await RawImap.open(server, 'dan@conc.test');
    const b = await RawImap.open(server, 'dan@conc.test');
    const selectA = await a.run('SELECT INBOX');
    const selectB = await b.run('SELECT INBOX');
    expect(selectA).toContain('* 4 EXISTS');
    expect(selectA).toContain('* 4 RECENT');
    expect(selectB).toContain('* 0 RECENT');

    await a.run('STORE 2 +FLAGS (\\Flagged)');
    expect(await b.run('NOOP')).toMatch(/\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\)\)/);

    await a.run('STORE 1,3 +FLAGS.SILENT (\\Deleted)');
    expect(await a.run('EXPUNGE')).toMatch(/\* 1 EXPUNGE\r\n\* 2 EXPUNGE\r\n/);

    // No EXPUNGE while answering FETCH; the flag change before it is fine.
    const fetch = await b.run('FETCH 1:4 (UID)');
    expect(fetch).not.toMatch(/\d EXPUNGE\r\n/);
    // RFC 2180 §4.1.1: expunged but not yet reported, the messages are still answered.
    expect(fetch).toMatch(/\* 1 FETCH \(UID 1\)\r\n\* 2 FETCH \(UID 2\)\r\n\* 3 FETCH \(UID 3\)\r\n\* 4 FETCH \(UID 4\)\r\n\S+ OK/);
    const expunged = await b.run('FETCH 1 (BODY.PEEK[])');
    expect(expunged).toMatch(/Subject: m1/);
    expect(expunged).toMatch(/\S+ OK/);
    expect(expunged).not.toMatch(/\d EXPUNGE\r\n/);
    const noop = await b.run('NOOP');
    expect(noop).toMatch(/\* 1 EXPUNGE\r\n\* 2 EXPUNGE\r\n/);
    expect(await b.run('FETCH 1:* (UID FLAGS)')).toMatch(/\* 1 FETCH \(UID 2 FLAGS \(\\Flagged\)\)\r\n\* 2 FETCH \(UID 4 FLAGS \(\)\)/);
    // UID commands may carry EXPUNGE responses.
    await a.run('UID STORE 4 +FLAGS.SILENT (\\Deleted)');
    await a.run('UID EXPUNGE 4');
    expect(await b.run('UID FETCH 1:* (FLAGS)')).toMatch(/\* 2 EXPUNGE\r\n/);
    a.close();
    b.close();
  });

  it('IDLE reports an SMTP delivery within a second', async () => {
    const client = await RawImap.open(server, 'eve@conc.test');
    await client.run('SELECT INBOX');
    client.line.send('i1 IDLE\r\n');
    await client.line.expect(/\+ idling\r\n/);
    const started = Date.now();
    await deliver(server, ['eve@conc.test'], message('idle wake'));
    await client.line.expect(/\* 1 EXISTS\r\n/, 1500);
    expect(Date.now() - started).toBeLessThan(3000);
    client.line.send('DONE\r\n');
    await client.line.expect(/i1 OK IDLE terminated\r\n/);
    client.close();
  });

  it('says BYE when another session deletes the selected folder; a renamed selection follows its new name', async () => {
    const a = await RawImap.open(server, 'eve@conc.test');
    const b = await RawImap.open(server, 'eve@conc.test');
    await a.run('CREATE Doomed');
    await a.run('APPEND Doomed {12+}\r\nSubject: x\r\n');
    expect(await b.run('SELECT Doomed')).toContain('* 1 EXISTS');
    await a.run('DELETE Doomed');
    b.line.send('n1 NOOP\r\n');
    await b.line.expect(/\* BYE [^\r]*\r\n/);
    await b.line.waitClosed();

    await a.run('CREATE Old/Child');
    await a.run('APPEND Old/Child {12+}\r\nSubject: y\r\n');
    await a.run('SELECT Old/Child');
    expect(await a.run('RENAME Old New')).toMatch(/OK RENAME completed/);
    expect(await a.run('FETCH 1 (UID BODY.PEEK[HEADER])')).toContain('Subject: y');
    expect(await a.run('STORE 1 +FLAGS (\\Flagged)')).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged/);
    expect(await a.run('STATUS New/Child (MESSAGES)')).toContain('(MESSAGES 1)');
    a.close();
  });
});
