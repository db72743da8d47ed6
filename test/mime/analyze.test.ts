// analyzeMessage on malformed and edge-case input: it never throws, offsets
// stay inside the message, and the result is plain msgpack-safe data.
// Also measures analysis time on a 4 KiB plain message and on the corpus.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/mime/analyze.js';
import type { MimePart } from '../../src/mime/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'imap-corpus');

function allParts(part: MimePart): MimePart[] {
  return [part, ...part.children.flatMap(allParts)];
}

function expectSane(raw: Buffer): void {
  const s = analyzeMessage(raw);
  expect(s.size).toBe(raw.length);
  for (const p of allParts(s.root)) {
    expect(p.headerStart).toBeLessThanOrEqual(p.bodyStart);
    expect(p.bodyStart).toBeLessThanOrEqual(p.bodyEnd);
    expect(p.bodyEnd).toBeLessThanOrEqual(raw.length);
  }
  expect(unpack(pack(s))).toEqual(s);
}

const CASES: Record<string, string | Buffer> = {
  empty: '',
  'only a blank line': '\r\n',
  'header only without blank line': 'Subject: x\r\nFrom: a@b',
  'bare LF line ends': 'Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b--\n',
  'boundary never closed': 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody',
  'boundary never opened': 'Content-Type: multipart/mixed; boundary=b\r\n\r\njust text\r\n',
  'multipart without boundary': 'Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\ny\r\n',
  'empty boundary parameter': 'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\na\r\n----\r\n',
  'nested parts with the same boundary': 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--b--\r\n',
  'message/rfc822 cut by a boundary inside its header':
    'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n--b--\r\n',
  'message/rfc822 at end of input': 'Content-Type: message/rfc822\r\n\r\n',
  'unterminated quoted strings and comments': 'From: "abc <a@b>, (x\r\nTo: <@a,@b:c\r\nContent-Type: text/plain; charset="x\r\n\r\n',
  'binary garbage': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
  'colonless header lines': 'no colon here\r\n: empty name\r\n\tcontinued\r\n\r\nbody',
  'deep nesting': `${'Content-Type: message/rfc822\r\n\r\n'.repeat(200)}end`,
  'nesting far beyond the limit': `${'Content-Type: message/rfc822\r\n\r\n'.repeat(20000)}end`,
  'multipart nesting far beyond the limit': `${Array.from({ length: 5000 }, (_, i) => `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`).join('')}x`,
  'long lines': `Subject: ${'x'.repeat(998)}\r\n\r\n${'y'.repeat(998)}\r\n${'z'.repeat(998)}\r\n`,
};

describe('analyzeMessage on malformed input', () => {
  for (const [name, input] of Object.entries(CASES)) {
    it(`never throws: ${name}`, () => {
      expectSane(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
    });
  }

  it('treats a header-only message as a header with an empty body', () => {
    const raw = Buffer.from('Subject: x\r\nFrom: a@b\r\n');
    const s = analyzeMessage(raw);
    expect(s.root.bodyStart).toBe(raw.length);
    expect(s.root.kind).toBe('text');
    expect(s.envelope.subject).toBe('x');
  });

  it('records multipart children with exact offsets', () => {
    const raw = Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\nepilogue\r\n');
    const s = analyzeMessage(raw);
    const [one, two] = s.root.children;
    expect(raw.toString('latin1', one!.headerStart, one!.bodyStart)).toBe('Content-Type: text/plain\r\n\r\n');
    expect(raw.toString('latin1', one!.bodyStart, one!.bodyEnd)).toBe('one');
    expect(raw.toString('latin1', two!.bodyStart, two!.bodyEnd)).toBe('two');
    expect(two!.path).toBe('2');
    expect(s.root.bodyEnd).toBe(raw.length);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeAnalyze(raw: Buffer, rounds: number): number {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    analyzeMessage(raw);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples);
}

describe('analyzeMessage speed', () => {
  it('analyzes a 4 KiB plain message well under 1 ms', () => {
    const header = 'From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: hello\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\nMessage-ID: <m@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n';
    const line = 'The quick brown fox jumps over the lazy dog, again and again.\r\n';
    const raw = Buffer.from(header + line.repeat(Math.ceil((4096 - header.length) / line.length)));
    timeAnalyze(raw, 200);
    const ms = timeAnalyze(raw, 1000);
    console.info(`analyzeMessage 4 KiB plain: median ${(ms * 1000).toFixed(1)} µs`);
    expect(ms).toBeLessThan(1);
  });

  it.skipIf(!existsSync(path.join(corpusDir, 'messages')))('reports the time per corpus message', () => {
    const files = readdirSync(path.join(corpusDir, 'messages')).filter((f) => f.endsWith('.eml'));
    const lines: string[] = [];
    let total = 0;
    for (const file of files) {
      const raw = readFileSync(path.join(corpusDir, 'messages', file));
      timeAnalyze(raw, 5);
      const ms = timeAnalyze(raw, 50);
      total += ms;
      if (raw.length > 100_000 || ms > 0.2) lines.push(`${file} (${raw.length} octets): ${(ms * 1000).toFixed(1)} µs`);
    }
    console.info(`analyzeMessage corpus: ${files.length} messages, median sum ${total.toFixed(2)} ms\n${lines.join('\n')}`);
    expect(total).toBeLessThan(files.length * 5);
  });
});
