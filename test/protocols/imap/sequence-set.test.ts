// Sequence sets (RFC 3501 §9, RFC 5182 `$`): parsing, printing, expansion
// against a message count or a UID list, and compression to `1:3,5`.

import { describe, expect, it } from 'vitest';
import {
  compressSequence,
  expandSequenceNumbers,
  expandUids,
  formatSequenceSet,
  normalizeRanges,
  parseSequenceSet,
  sequenceSetContains,
  type SequenceSet,
} from '../../../src/protocols/imap/sequence-set.js';

function parsed(text: string): SequenceSet {
  const set = parseSequenceSet(text);
  if (set === null) throw new Error(`invalid: ${text}`);
  return set;
}

describe('parseSequenceSet', () => {
  it.each([
    ['1', [{ from: 1, to: 1 }]],
    ['2:4', [{ from: 2, to: 4 }]],
    ['4:2', [{ from: 4, to: 2 }]],
    ['*', [{ from: '*', to: '*' }]],
    ['1:*', [{ from: 1, to: '*' }]],
    ['2,4:7,9,12:*', [{ from: 2, to: 2 }, { from: 4, to: 7 }, { from: 9, to: 9 }, { from: 12, to: '*' }]],
    ['4294967295', [{ from: 4294967295, to: 4294967295 }]],
  ])('%s', (text, ranges) => {
    expect(parseSequenceSet(text)).toEqual({ kind: 'ranges', ranges });
    expect(formatSequenceSet(parsed(text))).toBe(text);
  });

  it('$ is the saved search result', () => {
    expect(parseSequenceSet('$')).toEqual({ kind: 'saved' });
    expect(formatSequenceSet({ kind: 'saved' })).toBe('$');
  });

  it.each(['', '0', '1:0', '01', '1,', ',1', '1::2', '1:2:3', 'a', '4294967296', '1,$', '$:1', '-1', ' 1'])(
    'rejects %j',
    (text) => {
      expect(parseSequenceSet(text)).toBeNull();
    },
  );
});

describe('expansion', () => {
  it('against a message count, resolving * to the last message', () => {
    expect(expandSequenceNumbers(parsed('2,4:7,9,12:*'), 15)).toEqual([2, 4, 5, 6, 7, 9, 12, 13, 14, 15]);
    expect(expandSequenceNumbers(parsed('*'), 5)).toEqual([5]);
    expect(expandSequenceNumbers(parsed('3:1,2'), 5)).toEqual([1, 2, 3]);
    expect(expandSequenceNumbers(parsed('4:10'), 5)).toEqual([4, 5]);
    expect(expandSequenceNumbers(parsed('1:*'), 0)).toEqual([]);
    expect(expandSequenceNumbers({ kind: 'saved' }, 5, [5, 1, 9, 1])).toEqual([1, 5]);
  });

  it('against UIDs, where n:* includes the largest UID even when n is above it (RFC 3501 §6.4.8)', () => {
    const uids = [3, 7, 8, 20, 31];
    expect(expandUids(parsed('1:8'), uids)).toEqual([3, 7, 8]);
    expect(expandUids(parsed('8:*'), uids)).toEqual([8, 20, 31]);
    expect(expandUids(parsed('559:*'), uids)).toEqual([31]);
    expect(expandUids(parsed('*'), uids)).toEqual([31]);
    expect(expandUids(parsed('4:6,21:30'), uids)).toEqual([]);
    expect(expandUids(parsed('1:*'), [])).toEqual([]);
    expect(expandUids({ kind: 'saved' }, uids, [8, 99, 3])).toEqual([3, 8]);
  });

  it('normalizeRanges sorts, orients and merges', () => {
    const set = parsed('9:7,1,2,3:4,*');
    if (set.kind !== 'ranges') throw new Error('expected ranges');
    expect(normalizeRanges(set.ranges, 12)).toEqual([
      [1, 4],
      [7, 9],
      [12, 12],
    ]);
  });

  it('sequenceSetContains', () => {
    expect(sequenceSetContains(parsed('1:3,10:*'), 2, 20)).toBe(true);
    expect(sequenceSetContains(parsed('1:3,10:*'), 5, 20)).toBe(false);
    expect(sequenceSetContains(parsed('1:3,10:*'), 20, 20)).toBe(true);
  });
});

describe('compressSequence', () => {
  it.each([
    [[], ''],
    [[1], '1'],
    [[1, 2, 3, 5], '1:3,5'],
    [[300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 405], '300:310,405'],
    [[41, 43, 44, 45], '41,43:45'],
    [[5, 4, 3], '5,4,3'],
  ])('%j → %s', (numbers, text) => {
    expect(compressSequence(numbers)).toBe(text);
  });
});
