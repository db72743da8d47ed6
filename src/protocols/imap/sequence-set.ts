// IMAP sequence sets (RFC 3501 §9 "sequence-set", RFC 5182 "$"): parse,
// print, expand against a mailbox (message count or UID list) and compress a
// list of numbers back into the compact `1:3,5` form used by COPYUID/VANISHED.

/** A bound of a range: a number, or `*` (the largest number in use). */
export type SeqBound = number | '*';

/** `from:to` as written by the client; a single number has from === to. */
export interface SeqRange {
  from: SeqBound;
  to: SeqBound;
}

/** Ranges as written, or `$`: the result saved by an earlier SEARCH RETURN (SAVE). */
export type SequenceSet = { kind: 'ranges'; ranges: SeqRange[] } | { kind: 'saved' };

/** The largest value a sequence number or UID can take (32-bit nz-number). */
export const MAX_SEQ_NUMBER = 0xffffffff;

/** Parse `1:3,5,7:*` or `$`; null when the text is not a valid sequence set. */
export function parseSequenceSet(text: string): SequenceSet | null {
  if (text === '$') return { kind: 'saved' };
  if (text === '') return null;
  const ranges: SeqRange[] = [];
  for (const part of text.split(',')) {
    const range = parseRange(part);
    if (range === null) return null;
    ranges.push(range);
  }
  return { kind: 'ranges', ranges };
}

function parseRange(text: string): SeqRange | null {
  const pieces = text.split(':');
  if (pieces.length > 2) return null;
  const from = parseBound(pieces[0]!);
  const to = pieces.length === 2 ? parseBound(pieces[1]!) : from;
  if (from === null || to === null) return null;
  return { from, to };
}

function parseBound(text: string): SeqBound | null {
  if (text === '*') return '*';
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return null;
  const value = Number(text);
  return value <= MAX_SEQ_NUMBER ? value : null;
}

/** The wire form of a sequence set. */
export function formatSequenceSet(set: SequenceSet): string {
  if (set.kind === 'saved') return '$';
  return set.ranges
    .map((range) => (range.from === range.to ? String(range.from) : `${range.from}:${range.to}`))
    .join(',');
}

/**
 * Resolve `*` to `largest`, orient every range low→high, sort and merge.
 * With largest = 0 (empty mailbox) `*` resolves to 0, so `*` matches nothing.
 */
export function normalizeRanges(ranges: readonly SeqRange[], largest: number): Array<[number, number]> {
  const resolved = ranges.map((range): [number, number] => {
    const a = range.from === '*' ? largest : range.from;
    const b = range.to === '*' ? largest : range.to;
    return a <= b ? [a, b] : [b, a];
  });
  resolved.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const [low, high] of resolved) {
    const last = merged[merged.length - 1];
    if (last && low <= last[1] + 1) {
      last[1] = Math.max(last[1], high);
    } else {
      merged.push([low, high]);
    }
  }
  return merged.filter(([, high]) => high > 0).map(([low, high]): [number, number] => [Math.max(low, 1), high]);
}

/**
 * Sequence numbers 1..messageCount selected by the set, ascending, unique.
 * `$` is replaced by `saved` (sequence numbers the session already mapped).
 */
export function expandSequenceNumbers(
  set: SequenceSet,
  messageCount: number,
  saved: readonly number[] = [],
): number[] {
  if (set.kind === 'saved') return uniqueSorted(saved.filter((n) => n >= 1 && n <= messageCount));
  const out: number[] = [];
  for (const [low, high] of normalizeRanges(set.ranges, messageCount)) {
    for (let n = low; n <= Math.min(high, messageCount); n++) out.push(n);
  }
  return out;
}

/**
 * UIDs of `uids` (the mailbox's UIDs, ascending) selected by the set.
 * `*` is the largest UID in use, so `559:*` always includes the last message
 * (RFC 3501 §6.4.8). `$` is replaced by `saved` (UIDs), intersected with `uids`.
 */
export function expandUids(set: SequenceSet, uids: readonly number[], saved: readonly number[] = []): number[] {
  if (set.kind === 'saved') {
    const wanted = new Set(saved);
    return uids.filter((uid) => wanted.has(uid));
  }
  const largest = uids.length > 0 ? uids[uids.length - 1]! : 0;
  const ranges = normalizeRanges(set.ranges, largest);
  const out: number[] = [];
  let r = 0;
  for (const uid of uids) {
    while (r < ranges.length && ranges[r]![1] < uid) r++;
    if (r === ranges.length) break;
    if (uid >= ranges[r]![0]) out.push(uid);
  }
  return out;
}

/** True when `n` is in the set; `largest` resolves `*`. `$` never matches here. */
export function sequenceSetContains(set: SequenceSet, n: number, largest: number): boolean {
  if (set.kind === 'saved') return false;
  return normalizeRanges(set.ranges, largest).some(([low, high]) => n >= low && n <= high);
}

/**
 * `[1,2,3,5]` → `"1:3,5"`. Order is kept (runs of consecutive ascending
 * numbers are joined), so COPYUID source and destination lists stay paired;
 * sort first for a canonical form.
 */
export function compressSequence(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    const start = numbers[i]!;
    let end = start;
    while (i + 1 < numbers.length && numbers[i + 1] === end + 1) {
      end++;
      i++;
    }
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}

function uniqueSorted(numbers: readonly number[]): number[] {
  return [...new Set(numbers)].sort((a, b) => a - b);
}
