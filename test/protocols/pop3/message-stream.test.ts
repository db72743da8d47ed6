// Streaming dot-stuffing and the TOP cut, checked against a simple whole-message
// reference for every way of splitting the message into chunks.

import { describe, expect, it } from 'vitest';
import { DotStuffer, TopLimiter } from '../../../src/protocols/pop3/message-stream.js';
import { expectedRetrBody } from './pop3-client.js';

function stuffInChunks(chunks: string[]): string {
  const stuffer = new DotStuffer();
  const out = chunks.flatMap((chunk) => stuffer.push(Buffer.from(chunk, 'latin1')));
  out.push(stuffer.finish());
  return Buffer.concat(out).toString('latin1');
}

/** Every split of `text` into two or three chunks (including empty ones). */
function splits(text: string): string[][] {
  const result: string[][] = [[text]];
  for (let i = 0; i <= text.length; i++) {
    result.push([text.slice(0, i), text.slice(i)]);
    for (let j = i; j <= text.length; j++) result.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  }
  return result;
}

const messages = [
  'Subject: x\r\n\r\n.\r\n..\r\n.a\r\nb\r\n',
  '.leading\r\n',
  'no final newline',
  'ends with dot\r\n.',
  'bare\nlf\n.dot after bare lf\n',
  '',
  '\r\n',
  // Dots inside lines are left alone; only a dot at a line start is doubled.
  'From: a.b@example.net\r\n\r\nend. of line.\r\n.x.y.\r\n...\r\nv1.2\n.\n',
];

describe('DotStuffer', () => {
  it.each(messages)('stuffs %j the same however it is chunked', (message) => {
    for (const chunks of splits(message)) expect(stuffInChunks(chunks)).toBe(expectedRetrBody(message));
  });

  it('stuffs every dot-led line of a long message, in any chunk size', () => {
    const lines = Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? `.${i}` : i % 11 === 0 ? '..' : `line ${i}`));
    const message = `${lines.join('\r\n')}\r\n`;
    for (const size of [1, 2, 3, 64, 1000, message.length]) {
      const chunks: string[] = [];
      for (let at = 0; at < message.length; at += size) chunks.push(message.slice(at, at + size));
      expect(stuffInChunks(chunks)).toBe(expectedRetrBody(message));
    }
  });

  it('adds CRLF before the terminator only when the message lacks one', () => {
    expect(stuffInChunks(['a\r\n'])).toBe('a\r\n.\r\n');
    expect(stuffInChunks(['a'])).toBe('a\r\n.\r\n');
    expect(stuffInChunks(['a\r', '\n'])).toBe('a\r\n.\r\n');
    expect(stuffInChunks([])).toBe('.\r\n');
  });
});

function topInChunks(chunks: string[], lines: number): string {
  const limiter = new TopLimiter(lines);
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    out.push(limiter.push(Buffer.from(chunk, 'latin1')));
    if (limiter.done) break;
  }
  return Buffer.concat(out).toString('latin1');
}

describe('TopLimiter', () => {
  const message = 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n';

  it.each([
    [0, 'A: 1\r\nB: 2\r\n\r\n'],
    [1, 'A: 1\r\nB: 2\r\n\r\nl1\r\n'],
    [2, 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n'],
    [10, message],
  ])('TOP n %i sends the expected prefix however it is chunked', (lines, expected) => {
    for (const chunks of splits(message)) expect(topInChunks(chunks, lines)).toBe(expected);
  });

  it('sends the whole header when there is no body', () => {
    expect(topInChunks(['A: 1\r\nB: 2\r\n'], 0)).toBe('A: 1\r\nB: 2\r\n');
  });

  it('counts an unterminated last line as a line', () => {
    expect(topInChunks(['A: 1\r\n\r\nonly'], 5)).toBe('A: 1\r\n\r\nonly');
  });
});
