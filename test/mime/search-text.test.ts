// SEARCH text views checked against the Dovecot answers in imap-corpus: every
// SEARCH command made only of header/body/date keys is evaluated with the
// search-text functions and must select exactly the reference messages.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/mime/analyze.js';
import {
  bodyTexts,
  containsText,
  decodedHeaderValues,
  decodeQuotedPrintable,
  fullTexts,
  hasHeader,
  parseDateDay,
  sentDay,
} from '../../src/mime/search-text.js';
import type { MessageStructure } from '../../src/mime/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'imap-corpus');
const haveCorpus = existsSync(path.join(corpusDir, 'golden.json'));

interface Loaded {
  raw: Buffer;
  s: MessageStructure;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Tokens of a SEARCH command line: atoms, quoted strings, parentheses. */
function tokenize(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|\(|\)|[^\s()]+/g)].map((m) => (m[1] !== undefined ? `"${m[1]}` : m[0]));
}

function dayNumber(d: { year: number; month: number; day: number }): number {
  return d.year * 10000 + d.month * 100 + d.day;
}

function searchDate(token: string): number {
  const [day, mon, year] = token.split('-');
  return dayNumber({ year: Number(year), month: MONTHS.indexOf(mon!.toLowerCase()) + 1, day: Number(day) });
}

type Pred = (m: Loaded) => boolean;

/** A minimal evaluator for the text and date keys; null when the command uses other keys. */
class KeyParser {
  private i = 0;
  constructor(private readonly tokens: string[]) {}

  all(): Pred | null {
    const preds: Pred[] = [];
    while (this.i < this.tokens.length) {
      const p = this.key();
      if (!p) return null;
      preds.push(p);
    }
    return (m) => preds.every((p) => p(m));
  }

  private str(): string {
    const t = this.tokens[this.i++] ?? '';
    return t.startsWith('"') ? t.slice(1).replace(/\\(.)/g, '$1') : t;
  }

  private key(): Pred | null {
    const t = (this.tokens[this.i++] ?? '').toUpperCase();
    switch (t) {
      case 'OR': {
        const a = this.key();
        const b = this.key();
        return a && b ? (m) => a(m) || b(m) : null;
      }
      case 'NOT': {
        const a = this.key();
        return a ? (m) => !a(m) : null;
      }
      case 'CHARSET':
        this.i++;
        return () => true;
      case 'SUBJECT':
      case 'FROM':
      case 'TO':
      case 'CC':
      case 'BCC':
        return headerPred(t, this.str());
      case 'HEADER': {
        const name = this.str();
        return headerPred(name, this.str());
      }
      case 'BODY': {
        const needle = this.str();
        return (m) => bodyTexts(m.raw, m.s).some((x) => containsText(x, needle));
      }
      case 'TEXT': {
        const needle = this.str();
        return (m) => fullTexts(m.raw, m.s).some((x) => containsText(x, needle));
      }
      case 'SENTBEFORE':
      case 'SENTON':
      case 'SENTSINCE': {
        const wanted = searchDate(this.str());
        return (m) => compareSent(m, t, wanted);
      }
      default:
        return null;
    }
  }
}

function headerPred(name: string, needle: string): Pred {
  return (m) => hasHeader(m.s, name) && decodedHeaderValues(m.raw, m.s, name).some((v) => containsText(v, needle));
}

function compareSent(m: Loaded, key: string, wanted: number): boolean {
  const day = sentDay(m.raw, m.s);
  const have = day ? dayNumber(day) : 19700101;
  if (key === 'SENTBEFORE') return have < wanted;
  if (key === 'SENTON') return have === wanted;
  return have >= wanted;
}

describe.skipIf(!haveCorpus)('search text views against imap-corpus SEARCH answers', () => {
  it('selects the reference messages for every text and date SEARCH', () => {
    const golden = JSON.parse(readFileSync(path.join(corpusDir, 'golden.json'), 'utf8')) as {
      messages: { file: string }[];
      searches: { command: string; status: string; result: number[] }[];
    };
    const loaded = golden.messages.map((m) => {
      const raw = readFileSync(path.join(corpusDir, 'messages', m.file));
      return { raw, s: analyzeMessage(raw) };
    });
    const checked: string[] = [];
    for (const search of golden.searches) {
      if (search.status !== 'OK') continue;
      const pred = new KeyParser(tokenize(search.command.replace(/^UID SEARCH /, ''))).all();
      if (!pred) continue;
      const got = loaded.flatMap((m, i) => (pred(m) ? [i + 1] : []));
      expect({ command: search.command, result: got }).toEqual({ command: search.command, result: search.result });
      checked.push(search.command);
    }
    expect(checked.length).toBeGreaterThanOrEqual(25);
  });
});

describe('search text decoding', () => {
  it('decodes quoted-printable soft breaks and escapes', () => {
    const qp = Buffer.from('na=C3=AFve =\r\ncaf=C3=A9 =3D end=\r\n', 'latin1');
    expect(decodeQuotedPrintable(qp).toString('utf8')).toBe('naïve café = end');
  });

  it('keeps a malformed quoted-printable escape as is', () => {
    expect(decodeQuotedPrintable(Buffer.from('a=ZZb=')).toString('latin1')).toBe('a=ZZb');
  });

  it('decodes RFC 2047 words and raw UTF-8 in header values', () => {
    const raw = Buffer.from('Subject: =?ISO-8859-1?Q?Caf=E9?= und Grüße\r\nTo: x@y\r\n\r\nbody\r\n', 'utf8');
    const s = analyzeMessage(raw);
    expect(decodedHeaderValues(raw, s, 'SUBJECT')).toEqual(['Café und Grüße']);
  });

  it('decodes base64 text bodies with their charset', () => {
    const b64 = Buffer.from('Grüße', 'latin1').toString('base64');
    const raw = Buffer.from(`Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`);
    expect(bodyTexts(raw, analyzeMessage(raw))).toEqual(['Grüße']);
  });

  it('parses the Date day in the sender time zone and rejects what Dovecot rejects', () => {
    expect(parseDateDay('Fri, 02 Jan 2026 23:30:00 -0500')).toEqual({ year: 2026, month: 1, day: 2 });
    expect(parseDateDay('2 Jan 26 04:05 EST')).toEqual({ year: 2026, month: 1, day: 2 });
    expect(parseDateDay('01 Jan 2001 00:01+0000')).toBeNull();
    expect(parseDateDay('garbage')).toBeNull();
  });
});
