// FETCH answered from memory (issue 11, W3 round 13): a whole-message BODY.PEEK[] of a body
// the process holds is answered without the store's async read, and a SELECT takes the
// mailbox's views as they come when they are in UID order. The bytes must be exactly the
// delivered message's, also for a message another session expunged and this one has not
// been told about (RFC 2180 §4.1.1), and ENVELOPE/FLAGS lines must follow STORE at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchContentIfCached, type MessageReader } from '../../src/imap/fetch-items.js';
import { newSelectedFolder } from '../../src/imap/view.js';
import type { MessageView } from '../../src/mailbox/imap-messages.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

describe('the content of a FETCH from memory', () => {
  const body = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  const reader: MessageReader = {
    readAll: () => Promise.reject(new Error('not read')),
    structure: () => Promise.reject(new Error('not read')),
    cachedBody: (sha) => (sha === 'held' ? body : undefined),
  };

  it('is the bytes alone when they are held and no structure is needed, else left to the store', () => {
    expect(fetchContentIfCached(reader, 'held', false)).toEqual({ structure: null, raw: body });
    expect(fetchContentIfCached(reader, 'other', false)).toBeUndefined();
    expect(fetchContentIfCached(reader, 'held', true)).toBeUndefined();
    expect(fetchContentIfCached({ readAll: reader.readAll, structure: reader.structure }, 'held', false)).toBeUndefined();
  });
});

describe('a selected folder made from the mailbox views', () => {
  const view = (uid: number, flags: string[] = []): MessageView =>
    ({ uid, flags, modseq: uid, size: 10, internalDate: 0, blob: `b${uid}`, savedAt: 0 }) as MessageView;
  const info = { uidValidity: 1, uidNext: 10, highestModseq: 9 };

  it('is in UID order whatever order the views come in, with every keyword in FLAGS', () => {
    for (const order of [[1, 2, 5, 9], [9, 1, 5, 2], [2, 1, 9, 5]]) {
      const folder = newSelectedFolder('INBOX', false, info, order.map((uid) => view(uid, uid === 5 ? ['\\Seen', 'work'] : ['late'])), [9]);
      expect(folder.uids).toEqual([1, 2, 5, 9]);
      expect([...folder.messages.keys()]).toEqual([1, 2, 5, 9]);
      expect(folder.messages.get(5)!.blob).toBe('b5');
      expect(folder.flagList).toEqual(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', 'late', 'work']);
      expect([...folder.recent]).toEqual([9]);
    }
  });
});

let server: TestServer;
const raws = [1, 2, 3].map((n) => message(`memory ${n}`, `line one of ${n}\r\n.dot line\r\n${'x'.repeat(100 * n)}\r\n`));

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'memory.test', ['mia']);
  for (const raw of raws) await deliver(server, ['mia@memory.test'], raw);
});

afterAll(async () => server.destroy());

/** The delivered message as stored: our Received line, then the bytes sent. */
function stored(literal: string, raw: string): boolean {
  return literal.startsWith('Received: ') && literal.endsWith(`\r\n${raw}`);
}

/** The literal of a `BODY[] {n}` answer. */
function literalOf(answer: string): string {
  const match = /BODY\[\] \{(\d+)\}\r\n/.exec(answer);
  expect(match).not.toBeNull();
  const start = match!.index + match![0].length;
  return answer.slice(start, start + Number(match![1]));
}

describe('BODY.PEEK[] from memory', () => {
  it('gives the delivered bytes, again and again, and after another session expunged the message', async () => {
    const a = await RawImap.open(server, 'mia@memory.test');
    const b = await RawImap.open(server, 'mia@memory.test');
    await a.run('SELECT INBOX');
    await b.run('SELECT INBOX');
    for (let round = 0; round < 3; round++) {
      for (const n of [1, 2, 3]) expect(stored(literalOf(await a.run(`FETCH ${n} (BODY.PEEK[])`)), raws[n - 1]!)).toBe(true);
    }
    await a.run('STORE 2 +FLAGS (\\Deleted)');
    expect(await a.run('EXPUNGE')).toMatch(/\* 2 EXPUNGE/);
    // B has not been told (FETCH may not report EXPUNGE): message 2 is still there for it, whole.
    const answer = await b.run('FETCH 2 (BODY.PEEK[])');
    expect(stored(literalOf(answer), raws[1]!)).toBe(true);
    expect(answer).not.toMatch(/EXPUNGE/);
    expect(await b.run('NOOP')).toMatch(/\* 2 EXPUNGE/);
    expect(stored(literalOf(await b.run('FETCH 2 (BODY.PEEK[])')), raws[2]!)).toBe(true);
    a.close();
    b.close();
  });

  it('leaves the flags of the lines of a UID FETCH with ENVELOPE as STORE made them', async () => {
    const a = await RawImap.open(server, 'mia@memory.test');
    await a.run('SELECT INBOX');
    const before = await a.run('UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)');
    expect(before).toMatch(/\* 1 FETCH \(UID 1 FLAGS \([^)]*\) RFC822\.SIZE \d+ ENVELOPE \(.*"memory 1"/);
    await a.run('STORE 1 +FLAGS (\\Flagged $Work)');
    const after = await a.run('UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)');
    expect(after).toMatch(/\* 1 FETCH \(UID 1 FLAGS \([^)]*\\Flagged[^)]*\) RFC822\.SIZE \d+ ENVELOPE/);
    expect(after).toMatch(/\$Work/);
    const lines = (answer: string): string[] => answer.split('\r\n').filter((l) => l.startsWith('* ') && l.includes(' FETCH ('));
    expect(lines(after).map((l) => l.replace(/FLAGS \([^)]*\)/, ''))).toEqual(lines(before).map((l) => l.replace(/FLAGS \([^)]*\)/, '')));
    expect(lines(after).length).toBeGreaterThanOrEqual(2);
    a.close();
  });
});
