// Planned FETCH lines (issue 11, W3 round 13): a FETCH whose items all come from the view
// and the rendered structures is written straight into one buffer per batch. Its bytes
// must be those of the general path (renderFetchItems + fetchLines) for every item list,
// flag set (none, \Recent, non-ASCII keywords), UID FETCH or not, CONDSTORE or not.
import { describe, expect, it } from 'vitest';
import { plannedItems, renderFetchItems, type RenderedItems } from '../../src/imap/fetch-items.js';
import { plannedLineBytes, writePlannedLines, type PlannedLine } from '../../src/protocols/imap/planned-fetch.js';
import { fetchLines } from '../../src/protocols/imap/writer.js';
import type { FetchItem, SimpleFetchAttribute } from '../../src/protocols/imap/types.js';
import type { MessageView } from '../../src/mailbox/imap-messages.js';

const rendered: RenderedItems = {
  ENVELOPE: Buffer.from('("Thu, 1 Jan 2026 00:00:00 +0000" "Grüße" NIL NIL NIL NIL NIL NIL NIL "<a@b>")', 'utf8'),
  BODY: Buffer.from('("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 12 1)', 'latin1'),
  BODYSTRUCTURE: Buffer.from('("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL)', 'latin1'),
};

const views: Array<{ view: MessageView; seq: number; recent: boolean }> = [
  { seq: 1, recent: false, view: { uid: 1, flags: [], modseq: 1, size: 0, internalDate: 0, blob: 'a', savedAt: 0 } as MessageView },
  { seq: 9, recent: true, view: { uid: 10, flags: [], modseq: 10, size: 9, internalDate: 0, blob: 'a', savedAt: 0 } as MessageView },
  { seq: 10, recent: true, view: { uid: 99, flags: ['\\Seen', '$Junk'], modseq: 123456789, size: 16384, internalDate: 0, blob: 'a', savedAt: 0 } as MessageView },
  { seq: 480, recent: false, view: { uid: 4294967295, flags: ['\\Answered', 'Ünïcode', 'x'], modseq: 2 ** 52, size: 1234567, internalDate: 0, blob: 'a', savedAt: 0 } as MessageView },
];

const lists: SimpleFetchAttribute[][] = [
  ['FLAGS', 'RFC822.SIZE', 'ENVELOPE'], ['UID'], ['FLAGS'], ['ENVELOPE', 'FLAGS', 'ENVELOPE'], ['BODYSTRUCTURE', 'UID', 'MODSEQ'],
  ['BODY', 'RFC822.SIZE', 'FLAGS', 'UID'], ['MODSEQ', 'FLAGS'],
];

describe('planned FETCH lines', () => {
  it('are byte for byte the general path\'s lines', () => {
    let checked = 0;
    for (const names of lists) {
      const items: FetchItem[] = names.map((name) => ({ name }));
      for (const uid of [false, true]) {
        for (const condstore of [false, true]) {
          const includeModseq = condstore && names.includes('FLAGS');
          const plan = plannedItems(items, uid, includeModseq)!;
          expect(plan).not.toBeNull();
          const lines: PlannedLine[] = views.map(({ view, seq, recent }) => ({
            seq, uid: view.uid, size: view.size, modseq: view.modseq, flags: view.flags, recent, rendered,
          }));
          const bytes = lines.reduce((sum, line) => sum + plannedLineBytes(plan, line), 0);
          const planned = writePlannedLines(plan, lines, bytes);
          const general = fetchLines(views.map(({ view, seq, recent }) => ({
            seq,
            items: renderFetchItems(view, items, null, {
              includeUid: uid, includeModseq, flags: recent ? [...view.flags, '\\Recent'] : view.flags, flagsChanged: false,
            }, rendered),
          })));
          expect(planned.toString('latin1')).toBe(general.toString('latin1'));
          checked++;
        }
      }
    }
    expect(checked).toBe(lists.length * 4);
  });

  it('are not used for items that need the bytes, a date or anything else', () => {
    for (const item of [{ name: 'INTERNALDATE' }, { name: 'RFC822' }, { name: 'EMAILID' }, { name: 'BODY[]', peek: true, section: { part: [] } }] as FetchItem[]) {
      expect(plannedItems([{ name: 'FLAGS' }, item], true, false)).toBeNull();
    }
  });
});
