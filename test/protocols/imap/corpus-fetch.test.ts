// Differential check against the Dovecot 2.3 answers in the shared imap-corpus:
// every FETCH answer is recomputed from analyzeMessage + the renderers and
// compared item by item with compare.py's normalisation.

import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../../src/mime/analyze.js';
import type { MessageStructure } from '../../../src/mime/types.js';
import { renderBodyStructure, renderEnvelope } from '../../../src/protocols/imap/render-structure.js';
import { extractSection, type PartialRange, type SectionSpec } from '../../../src/protocols/imap/sections.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'imap-corpus');
const haveCorpus = existsSync(path.join(corpusDir, 'golden.json'));

/**
 * Answers where ternmail deliberately differs from Dovecot (argued in
 * docs/imap-conformance.md). Key: "<file> <item name>".
 */
const KNOWN_DIFFERENCES = new Set<string>([]);

interface GoldenFetch {
  command: string;
  status: string;
  responses: string[];
}

interface GoldenMessage {
  file: string;
  size: number;
  append_flags: string[];
  append_date: string;
  fetches: GoldenFetch[];
}

// ---------------------------------------------------------------- response parsing (as compare.py)

type Value = { kind: 'str'; content: Buffer; raw: Buffer } | { kind: 'nil' | 'atom'; raw: Buffer } | { kind: 'list'; items: Value[]; raw: Buffer };

class ResponseReader {
  constructor(
    private readonly b: Buffer,
    public i = 0,
  ) {}

  skipSpaces(): void {
    while (this.b[this.i] === 0x20) this.i++;
  }

  value(): Value {
    const b = this.b;
    const start = this.i;
    const c = b[start];
    if (c === 0x22) return this.quoted(start);
    if (c === 0x7b) return this.literal(start);
    if (c === 0x28) return this.list(start);
    let j = start;
    let depth = 0;
    while (j < b.length) {
      const ch = b[j]!;
      if (ch === 0x5b) depth++;
      else if (ch === 0x5d) depth--;
      else if (depth === 0 && (ch === 0x20 || ch === 0x28 || ch === 0x29 || ch === 0x0d || ch === 0x0a)) break;
      j++;
    }
    this.i = j;
    const raw = b.subarray(start, j);
    return raw.toString('latin1').toUpperCase() === 'NIL' ? { kind: 'nil', raw } : { kind: 'atom', raw };
  }

  private quoted(start: number): Value {
    const b = this.b;
    const out: number[] = [];
    let j = start + 1;
    while (b[j] !== 0x22) {
      if (b[j] === 0x5c) j++;
      if (j >= b.length) throw new Error('unterminated quoted string');
      out.push(b[j]!);
      j++;
    }
    this.i = j + 1;
    return { kind: 'str', content: Buffer.from(out), raw: b.subarray(start, this.i) };
  }

  private literal(start: number): Value {
    const m = /^\{(\d+)\+?\}\r\n/.exec(this.b.toString('latin1', start, start + 24));
    if (!m) throw new Error(`bad literal at ${start}`);
    const dataStart = start + m[0].length;
    this.i = dataStart + Number(m[1]);
    return { kind: 'str', content: this.b.subarray(dataStart, this.i), raw: this.b.subarray(start, this.i) };
  }

  private list(start: number): Value {
    this.i++;
    const items: Value[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.b[this.i] === 0x29) {
        this.i++;
        break;
      }
      if (this.i >= this.b.length) throw new Error('unterminated list');
      items.push(this.value());
    }
    return { kind: 'list', items, raw: this.b.subarray(start, this.i) };
  }

  itemName(): string {
    const b = this.b;
    let j = this.i;
    while (j < b.length && b[j] !== 0x20 && b[j] !== 0x5b && b[j] !== 0x29) j++;
    if (b[j] === 0x5b) {
      while (j < b.length && b[j] !== 0x5d) j++;
      j++;
      if (b[j] === 0x3c) j = b.indexOf(0x3e, j) + 1;
    }
    const name = b.toString('latin1', this.i, j);
    this.i = j;
    return name;
  }
}

function fetchItems(raw: Buffer): Map<string, Value> {
  const r = new ResponseReader(raw);
  r.skipSpaces();
  r.i++;
  const items = new Map<string, Value>();
  for (;;) {
    r.skipSpaces();
    if (raw[r.i] === 0x29 || r.i >= raw.length) break;
    const name = r.itemName();
    r.skipSpaces();
    items.set(name, r.value());
  }
  return items;
}

// ---------------------------------------------------------------- computing our answers

interface Requested {
  spec: SectionSpec;
  partial?: PartialRange;
}

function parseSection(text: string): SectionSpec {
  const m = /^((?:\d+\.)*\d+)?\.?(.*)$/s.exec(text)!;
  const part = m[1] ? m[1].split('.').map(Number) : [];
  const rest = m[2]!.trim();
  if (rest === '') return { part };
  const fields = /^(HEADER\.FIELDS(?:\.NOT)?)\s*\(([^)]*)\)$/i.exec(rest);
  if (fields) {
    const names = fields[2]!.trim().split(/\s+/).filter(Boolean);
    return { part, text: fields[1]!.toUpperCase() as SectionSpec['text'], fields: names };
  }
  return { part, text: rest.toUpperCase() as SectionSpec['text'] };
}

/** Response item name -> what was asked, from the command's BODY.PEEK[...]<o.l> items. */
function requestedSections(command: string): Map<string, Requested> {
  const out = new Map<string, Requested>();
  for (const m of command.matchAll(/BODY\.PEEK\[([^\]]*)\](?:<(\d+)\.(\d+)>)?/g)) {
    const partial = m[2] !== undefined ? { offset: Number(m[2]), length: Number(m[3]) } : undefined;
    const name = `BODY[${m[1]}]${partial ? `<${partial.offset}>` : ''}`;
    out.set(name, { spec: parseSection(m[1]!), partial });
  }
  return out;
}

function ourItem(name: string, raw: Buffer, s: MessageStructure, msg: GoldenMessage, asked: Map<string, Requested>): Buffer | string | null {
  switch (name.toUpperCase()) {
    case 'UID':
      return null;
    case 'FLAGS':
      return `(${[...msg.append_flags].sort().join(' ')})`;
    case 'INTERNALDATE':
      return `"${msg.append_date}"`;
    case 'RFC822.SIZE':
      return String(raw.length);
    case 'ENVELOPE':
      return renderEnvelope(s);
    case 'BODYSTRUCTURE':
      return renderBodyStructure(s, true);
    case 'BODY':
      return renderBodyStructure(s, false);
  }
  const req = asked.get(name);
  if (!req) throw new Error(`unexpected item ${name}`);
  return extractSection(raw, s, req.spec, req.partial);
}

function sortedFlags(v: Value): string {
  if (v.kind !== 'list') return v.raw.toString('latin1');
  return `(${v.items.map((x) => x.raw.toString('latin1')).sort().join(' ')})`;
}

/** null when identical under compare.py's rules, else a short description. */
function compareItem(name: string, expected: Value, ours: Buffer | string): string | null {
  if (name.toUpperCase() === 'FLAGS') {
    return sortedFlags(expected) === ours ? null : `expected ${sortedFlags(expected)} got ${String(ours)}`;
  }
  if (expected.kind === 'str' && name.toUpperCase().startsWith('BODY[')) {
    const got = ours as Buffer;
    return expected.content.equals(got) ? null : describe2(expected.content, got);
  }
  const got = typeof ours === 'string' ? Buffer.from(ours, 'latin1') : ours;
  return expected.raw.equals(got) ? null : describe2(expected.raw, got);
}

function describe2(expected: Buffer, got: Buffer): string {
  let k = 0;
  while (k < expected.length && k < got.length && expected[k] === got[k]) k++;
  const at = Math.max(0, k - 30);
  const show = (b: Buffer) => JSON.stringify(b.toString('latin1', at, at + 140));
  return `first difference at byte ${k}: expected ${show(expected)} got ${show(got)}`;
}

// ---------------------------------------------------------------- the test

describe.skipIf(!haveCorpus)('imap-corpus FETCH answers (Dovecot 2.3 reference)', () => {
  it('computes every FETCH answer identically, except the listed known differences', () => {
    const golden = JSON.parse(readFileSync(path.join(corpusDir, 'golden.json'), 'utf8')) as { messages: GoldenMessage[] };
    const differences: string[] = [];
    const unexpected: string[] = [];
    let total = 0;
    let identical = 0;
    for (const msg of golden.messages) {
      const raw = readFileSync(path.join(corpusDir, 'messages', msg.file));
      const s = analyzeMessage(raw);
      for (const fetch of msg.fetches) {
        total++;
        const asked = requestedSections(fetch.command);
        let same = true;
        for (const response of fetch.responses) {
          for (const [name, expected] of fetchItems(Buffer.from(response, 'latin1'))) {
            const ours = ourItem(name, raw, s, msg, asked);
            if (ours === null) continue;
            const diff = compareItem(name, expected, ours);
            if (!diff) continue;
            same = false;
            const key = `${msg.file} ${name}`;
            (KNOWN_DIFFERENCES.has(key) ? differences : unexpected).push(`${key} [${fetch.command}]: ${diff}`);
          }
        }
        if (same) identical++;
      }
    }
    console.info(`imap-corpus FETCH: ${identical}/${total} answers identical, ${differences.length} known differences`);
    expect(unexpected).toEqual([]);
  });
});

if (!haveCorpus) {
  describe('imap-corpus FETCH answers', () => {
    it.skip(`skipped: corpus folder not found at ${corpusDir}`, () => {});
  });
}
