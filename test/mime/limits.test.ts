// MIME limits on hostile structure: past maxParts, maxDepth, maxHeaders or the
// boundary-matching budget, the structure is one opaque application/octet-stream part
// over the intact body, with ENVELOPE and header index from the message's own header.
import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/mime/analyze.js';
import { analyzeBody, OFF_THREAD_BYTES } from '../../src/mime/off-thread.js';
import type { MimeLimits } from '../../src/mime/types.js';

const limits: MimeLimits = { maxParts: 50, maxDepth: 5, maxHeaders: 20 };
const top = 'From: Ann <ann@a.test>\r\nSubject: hostile\r\nMIME-Version: 1.0\r\n';

function parts(count: number): Buffer {
  return Buffer.from(top + 'Content-Type: multipart/mixed; boundary=b\r\n\r\n' + '--b\r\n\r\nx\r\n'.repeat(count) + '--b--\r\n', 'latin1');
}

function nested(depth: number): Buffer {
  let text = top;
  for (let i = 0; i < depth; i++) text += `Content-Type: multipart/mixed; boundary=n${i}\r\n\r\n--n${i}\r\n`;
  return Buffer.from(text + '\r\ninnermost\r\n', 'latin1');
}

function expectOpaque(raw: Buffer, limit: string, l: MimeLimits = limits): void {
  const s = analyzeMessage(raw, l);
  expect(s.limited).toBe(limit);
  expect(s.root.type).toBe('application');
  expect(s.root.subtype).toBe('octet-stream');
  expect(s.root.children).toEqual([]);
  expect(s.root.headerStart).toBe(0);
  expect(s.root.bodyEnd).toBe(raw.length);
  expect(s.envelope.subject).toBe('hostile');
  expect(s.headers[0]!.name).toBe('from');
}

describe('MIME limits', () => {
  it('keeps a tree within the limits as it is', () => {
    expect(analyzeMessage(parts(48), limits).root.children).toHaveLength(48);
    expect(analyzeMessage(nested(5), limits).limited).toBeUndefined();
  });

  it('makes the structure opaque past maxParts', () => {
    expectOpaque(parts(50), 'parts');
  });

  it('makes the structure opaque past maxDepth', () => {
    expectOpaque(nested(6), 'depth');
  });

  it('makes the structure opaque past maxHeaders fields in one part, with the body start found', () => {
    const fields = Array.from({ length: 30 }, (_, i) => `X-F${i}: v\r\n`).join('');
    const raw = Buffer.from(top + fields + '\r\nbody\r\n', 'latin1');
    expectOpaque(raw, 'headers');
    const s = analyzeMessage(raw, limits);
    expect(raw.toString('latin1', s.root.bodyStart)).toBe('body\r\n');
    expect(s.headers).toHaveLength(20);
  });

  it('stops boundary matching that grows out of proportion to the size', () => {
    const long = 'a'.repeat(68);
    let text = top;
    for (let i = 0; i < 30; i++) text += `Content-Type: multipart/mixed; boundary="${long}${i}"\r\n\r\n--${long}${i}\r\n`;
    const raw = Buffer.from(text + '\r\n' + `--${long}\r\n`.repeat(20_000), 'latin1');
    expectOpaque(raw, 'work', { maxParts: 1000, maxDepth: 32, maxHeaders: 1000 });
  });

  it('gives the same structure on the analysis thread as inline', async () => {
    const raw = Buffer.concat([parts(40), Buffer.alloc(OFF_THREAD_BYTES, 0x61)]);
    expect(await analyzeBody(raw, limits)).toEqual(analyzeMessage(raw, limits));
    const bomb = parts(60_000);
    expect(bomb.length).toBeGreaterThan(OFF_THREAD_BYTES);
    expect((await analyzeBody(bomb, limits)).limited).toBe('parts');
  });
});
