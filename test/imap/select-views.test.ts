// SELECT's message views (issue 11, W3): the mailbox actor makes the view of a message
// record once and every session selecting the folder shares it, frozen; a flag change
// makes a new record and so a new view, and no session's view of the flags changes under
// it except through the changes it is told about.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toView } from '../../src/mailbox/state.js';
import { decodeMessage, encodeMessage, type MessageRecord } from '../../src/store/mailbox-store.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

describe('the view of a message record', () => {
  const record: MessageRecord = { uid: 4, blob: 'ab'.repeat(32), size: 120, flags: ['\\Seen', 'work'], internalDate: 1_700_000_000_000, modseq: 9 };

  it('is made once per record, frozen with its flags, and a changed record gets its own', () => {
    const view = toView(record);
    expect(toView(record)).toBe(view);
    expect(view).toEqual({ uid: 4, flags: ['\\Seen', 'work'], modseq: 9, size: 120, internalDate: 1_700_000_000_000, blob: record.blob, savedAt: 1_700_000_000_000 });
    expect(Object.isFrozen(view) && Object.isFrozen(view.flags)).toBe(true);
    expect(() => view.flags.push('late')).toThrow(TypeError);
    expect(view.flags).not.toBe(record.flags);
    const changed = { ...record, flags: ['\\Seen'], modseq: 10 };
    expect(toView(changed)).not.toBe(view);
    expect(toView(changed).flags).toEqual(['\\Seen']);
    expect(view.flags).toEqual(['\\Seen', 'work']);
  });

  it('is not carried by a copy of the record nor by its stored encoding', () => {
    const held: MessageRecord = { ...record, uid: 5 };
    const view = toView(held);
    const copy = { ...held, flags: ['\\Flagged'] };
    expect(toView(copy)).not.toBe(view);
    expect(toView(copy).flags).toEqual(['\\Flagged']);
    expect(toView({ ...held })).not.toBe(view);
    expect(Object.keys(held)).toEqual(Object.keys(record));
    expect(decodeMessage(encodeMessage(held))).toEqual({ ...record, uid: 5 });
  });
});

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'views.test', ['vic']);
  for (const n of [1, 2, 3]) await deliver(server, ['vic@views.test'], message(`view ${n}`));
});

afterAll(async () => server.destroy());

describe('sessions selecting one folder', () => {
  it('see their own and each other\'s flag changes as IMAP says, whatever views they share', async () => {
    const a = await RawImap.open(server, 'vic@views.test');
    const b = await RawImap.open(server, 'vic@views.test');
    await a.run('SELECT INBOX');
    await b.run('EXAMINE INBOX');
    expect(await a.run('STORE 2 +FLAGS (\\Flagged)')).toMatch(/\* 2 FETCH \(UID 2 FLAGS \([^)]*\\Flagged[^)]*\)\)/);
    // B learns it with its next command, not before; its view of message 1 is untouched.
    expect(await b.run('NOOP')).toMatch(/\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\)\)/);
    expect(await b.run('FETCH 1:3 (FLAGS)')).toMatch(/\* 1 FETCH \(FLAGS \(\)\)\r\n\* 2 FETCH \(FLAGS \(\\Flagged\)\)\r\n\* 3 FETCH \(FLAGS \(\)\)/);
    // A third session selecting now gets the same flags, and \Recent stays per session.
    const c = await RawImap.open(server, 'vic@views.test');
    expect(await c.run('SELECT INBOX')).toMatch(/\* 3 EXISTS/);
    expect(await c.run('FETCH 2 (FLAGS)')).toMatch(/\* 2 FETCH \(FLAGS \(\\Flagged\)\)/);
    expect(await a.run('FETCH 1 (FLAGS)')).toMatch(/\* 1 FETCH \(FLAGS \(\\Recent\)\)/);
    await a.run('STORE 2 -FLAGS (\\Flagged)');
    // C is told at its next command's end, and only then answers from the changed view.
    expect(await c.run('NOOP')).toMatch(/\* 2 FETCH \(UID 2 FLAGS \(\)\)/);
    expect(await c.run('FETCH 2 (FLAGS)')).toMatch(/\* 2 FETCH \(FLAGS \(\)\)/);
    expect(await b.run('FETCH 2 (FLAGS)')).toMatch(/^\* 2 FETCH \(FLAGS \(\\Flagged\)\)/);
    for (const s of [a, b, c]) s.close();
  });
});
