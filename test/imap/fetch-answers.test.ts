// How FETCH answers leave (issue 11, W3): the `* n FETCH` lines of many messages are
// gathered into one buffer per 128 KiB instead of one socket write per message, and must
// be byte for byte what per-message FETCHes answer; a FETCH of the whole message
// (BODY.PEEK[], RFC822, BINARY[]) is answered from the bytes alone, without the MIME
// structure, and gives what the structure-based extraction gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Socket } from 'node:net';
import { countSends } from '../support/socket-sends.js';
import { analyzeMessage } from '../../src/mime/analyze.js';
import { extractSection } from '../../src/protocols/imap/sections.js';
import { fetchLineParts, fetchLines } from '../../src/protocols/imap/writer.js';
import { renderFetchItems, structureNeeded } from '../../src/imap/fetch-items.js';
import type { FetchItem, FetchResponseItem } from '../../src/protocols/imap/types.js';
import { python } from '../support/clients.js';
import { provision, startTestServer, waitForMessages, type TestServer } from '../support/server.js';
import { message, RawImap } from './imap-support.js';

let server: TestServer;
const COUNT = 40;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'answers.test', ['ann']);
  // One SMTP session for all of them (a Python process per message is slow on a busy machine).
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
for n in range(1, ${COUNT} + 1):
    # Bodies of 9 KiB: the 40 together pass the 128 KiB at which gathered answers are sent.
    subject = '=?utf-8?q?caf=C3=A9_%d?=' % n if n % 3 == 0 else 'message "%d" (of ${COUNT})' % n
    cc = 'Cc: c@answers.test\\r\\n' if n % 2 else ''
    msg = 'From: a@remote.test\\r\\nTo: ann@answers.test\\r\\n%sSubject: %s\\r\\n\\r\\n%send %d\\r\\n' % (cc, subject, 'body line\\r\\n' * 900, n)
    s.sendmail('sender@remote.test', ['ann@answers.test'], msg.encode())
s.quit()
`, [String(server.ports.smtp)]);
  expect(code, stderr).toBe(0);
  await waitForMessages(server, COUNT, 30_000);
}, 120_000);

afterAll(async () => server.destroy());

/** Counts the buffers handed to the sockets `which` picks (`write` calls) until `stop()`. */
function countWrites(which: (socket: Socket) => boolean): { stop(): number } {
  const original = Socket.prototype.write;
  let count = 0;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    if (which(this)) count++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof Socket.prototype.write;
  return {
    stop() {
      Socket.prototype.write = original;
      return count;
    },
  };
}


/** The untagged lines of an answer (the tagged completion cut off). */
function untagged(answer: string): string {
  return answer.replace(/\S+ OK [^\r\n]*\r\n$/, '');
}

describe('FETCH answers of many messages', () => {
  it('hand UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE) of 40 messages to the socket as one buffer, byte for byte the per-message answers', async () => {
    const a = await RawImap.open(server, 'ann@answers.test');
    await a.run('SELECT INBOX');
    let expected = '';
    for (let uid = 1; uid <= COUNT; uid++) expected += untagged(await a.run(`UID FETCH ${uid} (FLAGS RFC822.SIZE ENVELOPE)`));
    const clientPort = a.line.socket.localPort;
    const writes = countWrites((socket) => socket.remotePort === clientPort);
    const all = await a.run('UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)');
    // One buffer for the 40 lines, one for the tagged OK (was 41: one per message).
    expect(writes.stop()).toBe(2);
    expect(untagged(all)).toBe(expected);
    expect(all.match(/^\* \d+ FETCH \(UID \d+ FLAGS /gm)).toHaveLength(COUNT);
    a.close();
  });

  it('sends bodies past 128 KiB, each beside its line uncopied, in a few sends, each message whole and in order', async () => {
    const a = await RawImap.open(server, 'ann@answers.test');
    await a.run('EXAMINE INBOX');
    let expected = '';
    for (let n = 1; n <= COUNT; n++) expected += untagged(await a.run(`FETCH ${n} (UID BODY.PEEK[])`));
    const clientPort = a.line.socket.localPort;
    const mine = (socket: Socket): boolean => socket.remotePort === clientPort;
    const writes = countWrites(mine);
    const sends = countSends(mine);
    const all = await a.run(`FETCH 1:${COUNT} (UID BODY.PEEK[])`);
    const sent = sends.stop();
    const written = writes.stop();
    expect(untagged(all)).toBe(expected);
    // Each body is handed over as it is (a buffer of its own between two of text)...
    expect(written).toBeGreaterThanOrEqual(2 * COUNT);
    // ...and the 360 KiB leave in a few sends (the socket is corked for the command and
    // flushed every quarter MiB), not one per message.
    expect(sent).toBeLessThanOrEqual(4);
    a.close();
  });

  it('answers BODY.PEEK[], RFC822 and BINARY.PEEK[] of the whole message, with a partial range, as the section extraction does', async () => {
    const a = await RawImap.open(server, 'ann@answers.test');
    await a.run('EXAMINE INBOX');
    const whole = await a.run('FETCH 3 (BODY.PEEK[])');
    const literal = /BODY\[\] \{(\d+)\}\r\n/.exec(whole)!;
    const bytes = whole.slice(literal.index + literal[0].length, literal.index + literal[0].length + Number(literal[1]));
    expect(bytes).toContain('end 3\r\n');
    expect(await a.run('FETCH 3 (RFC822)')).toContain(`RFC822 {${bytes.length}}\r\n${bytes})`);
    expect(await a.run('FETCH 3 (BINARY.PEEK[])')).toContain(`BINARY[] {${bytes.length}}\r\n${bytes})`);
    expect(await a.run('FETCH 3 (BINARY.SIZE[])')).toContain(`BINARY.SIZE[] ${bytes.length})`);
    expect(await a.run('FETCH 3 (BODY.PEEK[]<10.20>)')).toContain(`BODY[]<10> {20}\r\n${bytes.slice(10, 30)})`);
    expect(await a.run('FETCH 3 (BODY.PEEK[]<99999999.5>)')).toContain('BODY[]<99999999> {0}\r\n)');
    a.close();
  });
});

describe('what a FETCH renders from', () => {
  const raw = Buffer.from(message('whole', 'the text\r\n'), 'latin1');
  const structure = analyzeMessage(raw);
  const view = { uid: 7, flags: ['\\Seen'], modseq: 3, size: raw.length, internalDate: 0, blob: 'sha-whole', savedAt: 0 };
  const options = { includeUid: true, includeModseq: false, flags: ['\\Seen'], flagsChanged: false };
  const wholeItems = [
    { name: 'BODY[]', peek: true, section: { part: [] } }, { name: 'RFC822' }, { name: 'BINARY[]', peek: true, part: [] },
    { name: 'BINARY.SIZE', part: [] }, { name: 'FLAGS' }, { name: 'RFC822.SIZE' },
  ] as FetchItem[];

  it('needs no structure for the whole message and the view items, and gives what the extraction with a structure gives', () => {
    expect(structureNeeded(wholeItems)).toBe(false);
    const fromBytes = renderFetchItems(view, wholeItems, { structure: null, raw }, options);
    const withStructure = renderFetchItems(view, wholeItems, { structure, raw }, options);
    const wire = (items: FetchResponseItem[]): string => fetchLines([{ seq: 1, items }]).toString('latin1');
    expect(wire(fromBytes)).toBe(wire(withStructure));
    expect(wire(fromBytes)).toContain(`BODY[] {${raw.length}}\r\n${raw.toString('latin1')} RFC822 {`);
    expect(extractSection(raw, structure, { part: [] }).equals(raw)).toBe(true);
  });

  it('needs the structure for a section, the header, a part or ENVELOPE', () => {
    for (const item of [
      { name: 'BODY[]', peek: true, section: { part: [], text: 'HEADER' } }, { name: 'BODY[]', peek: true, section: { part: [1] } },
      { name: 'RFC822.HEADER' }, { name: 'RFC822.TEXT' }, { name: 'BINARY[]', peek: true, part: [1] }, { name: 'ENVELOPE' },
    ] as FetchItem[]) expect(structureNeeded([item]), item.name).toBe(true);
    expect(() => renderFetchItems(view, [{ name: 'RFC822.HEADER' }] as FetchItem[], { structure: null, raw }, options)).toThrow(/structure/);
  });

  it('sends a large literal as its own buffer beside the lines, the bytes the same', () => {
    const body = Buffer.alloc(20_000, 0x61);
    const answers = [
      { seq: 1, items: [{ name: 'UID', value: '5' }, { name: 'BODY[]', value: { literal: body } }] },
      { seq: 2, items: [{ name: 'BODY[]', value: { literal: Buffer.from('small') } }, { name: 'FLAGS', value: '()' }] },
    ];
    const parts = fetchLineParts(answers);
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(body);
    expect(Buffer.concat(parts).equals(fetchLines(answers))).toBe(true);
    expect(Buffer.concat(parts).toString('latin1')).toBe(`* 1 FETCH (UID 5 BODY[] {20000}\r\n${'a'.repeat(20_000)})\r\n* 2 FETCH (BODY[] {5}\r\nsmall FLAGS ())\r\n`);
  });

  it('writes many lines into one buffer exactly as one line each', () => {
    const answers = [1, 2, 300].map((seq) => ({ seq, items: [{ name: 'UID', value: Buffer.from(String(seq * 10)) }, { name: 'FLAGS', value: Buffer.from('(\\Seen)') }] }));
    expect(fetchLines(answers).toString('latin1')).toBe(answers.map((a) => `* ${a.seq} FETCH (UID ${a.seq * 10} FLAGS (\\Seen))\r\n`).join(''));
    expect(fetchLines([]).length).toBe(0);
  });
});
