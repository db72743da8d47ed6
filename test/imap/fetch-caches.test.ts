// What FETCH keeps per body (issue 16): the fields of the top-level header, scanned once,
// give exactly what the section extraction gives for BODY[HEADER.FIELDS (...)] (order of
// the header, folded lines, any case, repeated fields, a field absent), within a byte
// budget; ENVELOPE and BODYSTRUCTURE come out the same from the rendered cache on the path
// that also reads the bytes.
import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/mime/analyze.js';
import { extractSection } from '../../src/protocols/imap/sections.js';
import { renderBodyStructure, renderEnvelope } from '../../src/protocols/imap/render-structure.js';
import { HeaderFieldIndexes, RenderedStructures, renderFetchItems } from '../../src/imap/fetch-items.js';
import type { FetchItem } from '../../src/protocols/imap/types.js';
import { writeResponse } from '../../src/protocols/imap/writer.js';

const raw = Buffer.from([
  'Received: from a\r\n\tby b; Thu, 1 Jan 2026 00:00:00 +0000',
  'From: Ann <ann@cache.test>',
  'To: bob@cache.test,\r\n  cy@cache.test',
  'Subject: folded\r\n subject line',
  'received: from c by d',
  'Message-ID: <m1@cache.test>',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'the body, which no header field request returns\r\n',
].join('\r\n'), 'latin1');
const structure = analyzeMessage(raw);

describe('the header fields kept per body', () => {
  it('gives what the section extraction gives for any list of names', () => {
    const indexes = new HeaderFieldIndexes(1024 * 1024);
    const lists = [['Subject'], ['FROM', 'to'], ['Received'], ['X-Absent'], ['message-id', 'subject', 'Received', 'cc'], []];
    for (const fields of lists) {
      const expected = extractSection(raw, structure, { part: [], text: 'HEADER.FIELDS', fields });
      expect(indexes.select('sha-1', raw, structure, fields).toString('latin1')).toBe(expected.toString('latin1'));
    }
  });

  it('keeps no more header bytes than its budget, the least recently used going first', () => {
    const headerBytes = structure.root.bodyStart - structure.root.headerStart;
    const indexes = new HeaderFieldIndexes(headerBytes * 2);
    const a = indexes.fields('a', raw, structure);
    indexes.fields('b', raw, structure);
    expect(indexes.fields('a', raw, structure)).toBe(a);
    indexes.fields('c', raw, structure);
    expect(indexes.fields('a', raw, structure)).toBe(a);
    expect(indexes.size).toBe(2);
    expect(indexes.bytes).toBeLessThanOrEqual(headerBytes * 2);
  });
});

describe('the rendered structures kept per body', () => {
  it('keeps what was used since it came up oldest, and no more bytes than the budget', () => {
    const size = renderEnvelope(structure).length;
    const kept = new RenderedStructures(size * 2);
    const a = kept.render('a', 'ENVELOPE', structure);
    kept.render('b', 'ENVELOPE', structure);
    expect(kept.get('a', 'ENVELOPE')).toBe(a);
    kept.render('c', 'ENVELOPE', structure);
    expect(kept.get('a', 'ENVELOPE')).toBe(a);
    expect(kept.get('b', 'ENVELOPE')).toBeUndefined();
    expect(kept.get('c', 'BODY')).toBeUndefined();
    expect(kept.size).toBe(2);
    expect(kept.bytes).toBe(size * 2);
  });
});

describe('FETCH items that need the bytes and the structure', () => {
  it('renders ENVELOPE, BODYSTRUCTURE and BODY[HEADER.FIELDS] as the renderers do, from the kept copies the second time', () => {
    const items = [
      { name: 'ENVELOPE' }, { name: 'BODYSTRUCTURE' },
      { name: 'BODY[]', peek: true, section: { part: [], text: 'HEADER.FIELDS', fields: ['Subject', 'To'] } },
    ] as FetchItem[];
    const view = { uid: 1, flags: [], modseq: 1, size: raw.length, internalDate: 0, blob: 'sha-fetch', savedAt: 0 };
    const options = { includeUid: false, includeModseq: false, flags: [], flagsChanged: false };
    for (let pass = 0; pass < 2; pass++) {
      const out = renderFetchItems(view, items, { structure, raw }, options);
      expect(out[0]!.value.toString('latin1')).toBe(renderEnvelope(structure).toString('latin1'));
      expect(out[1]!.value.toString('latin1')).toBe(renderBodyStructure(structure, true).toString('latin1'));
      expect(writeResponse({ type: 'fetch', seq: 1, items: [out[2]!] }).toString('latin1')).toContain('To: bob@cache.test,\r\n  cy@cache.test\r\nSubject: folded\r\n subject line\r\n\r\n');
    }
  });
});
