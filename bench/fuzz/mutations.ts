// fast-check arbitraries shared by every fuzz target: valid seed inputs mutated
// the ways parsers break (bit flips, cuts, repeated tokens, huge numbers, deep
// nesting, unbalanced quotes and literals), raw bytes, and random chunkings.

import fc from 'fast-check';

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number; times: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number };

/** Fragments that stress parsers when dropped anywhere into a valid input. */
const HOSTILE_FRAGMENTS = [
  '"', '\\', '(', ')', '[', ']', '<', '>', '{', '}', ' ', '\r\n', '\n', '\r', '\0', '*', ':', ',', ';', '@', '=?', '?=',
  '{0}\r\n', '{5}\r\n', '{5+}\r\n', '{999999999999}\r\n', '~{3}\r\n', '{4294967296+}\r\n',
  '4294967295', '4294967296', '18446744073709551616', '99999999999999999999999', '-1', '0', '1:*', '*:*',
  '\u00ff\u00fe', '\u{1F600}', '&AGE-', '&', '--', '\r\n--b\r\n', '\r\n\r\n', 'NIL', 'BODY[', 'HEADER.FIELDS (',
];

const DEEP_OPENERS = ['(', '[', '"(', '<', '=?utf-8?q?', '--'];

/** Cap on copies of a token holding a line break (each copy is one more command). */
const MAX_REPEATED_LINES = 64;

const position = fc.nat({ max: 1 << 20 });

const deepNesting = fc.tuple(fc.constantFrom(...DEEP_OPENERS), fc.integer({ min: 1, max: 20_000 }))
  .map(([opener, times]) => opener.repeat(times));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('duplicate' as const), at: position,
    length: fc.integer({ min: 1, max: 16 }), times: fc.integer({ min: 1, max: 2000 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const), at: position,
    text: fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), deepNesting, fc.string({ maxLength: 8 })),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 8 }) }),
);

/** Applies one mutation; positions wrap around the input's length. */
export function applyMutation(input: Buffer, m: Mutation): Buffer {
  const at = input.length === 0 ? 0 : m.at % (input.length + 1);
  switch (m.kind) {
    case 'flip': {
      if (input.length === 0) return input;
      const copy = Buffer.from(input);
      const index = at % copy.length;
      copy[index] = copy[index]! ^ (1 << m.bit);
      return copy;
    }
    case 'truncate':
      return input.subarray(0, at);
    case 'duplicate': {
      const token = input.subarray(at, at + m.length);
      // A repeated line break makes thousands of commands: one input should stay a few commands long.
      const times = token.includes(0x0a) ? Math.min(m.times, MAX_REPEATED_LINES) : m.times;
      return Buffer.concat([input.subarray(0, at), Buffer.alloc(token.length * times, token), input.subarray(at)]);
    }
    case 'insert':
      return Buffer.concat([input.subarray(0, at), Buffer.from(m.text, 'latin1'), input.subarray(at)]);
    case 'delete':
      return Buffer.concat([input.subarray(0, at), input.subarray(at + m.length)]);
  }
}

/** A seed input with up to `maxMutations` mutations applied in order. */
export function mutated(seeds: fc.Arbitrary<Buffer>, maxMutations = 4): fc.Arbitrary<Buffer> {
  return fc.tuple(seeds, fc.array(mutation, { maxLength: maxMutations }))
    .map(([seed, mutations]) => mutations.reduce(applyMutation, seed));
}

/** Arbitrary bytes, biased towards the protocol's special characters. */
export function rawBytes(maxLength: number): fc.Arbitrary<Buffer> {
  const special = fc.constantFrom(0x0d, 0x0a, 0x20, 0x22, 0x28, 0x29, 0x5c, 0x7b, 0x7d, 0x2a, 0x3a, 0x3c, 0x3e, 0x40, 0x3d, 0x3f, 0x2d);
  const byte = fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 255 }) }, { weight: 2, arbitrary: special });
  return fc.array(byte, { maxLength }).map((bytes) => Buffer.from(bytes));
}

/** Grammar-aware inputs (mostly) and raw bytes (sometimes). */
export function hostileInput(seeds: fc.Arbitrary<Buffer>, maxRawLength = 512): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 5, arbitrary: mutated(seeds) },
    { weight: 1, arbitrary: seeds },
    { weight: 2, arbitrary: rawBytes(maxRawLength) },
  );
}

/** Cut points used to split one input into socket-sized chunks (in order, wrapped to the length). */
export const splitPoints: fc.Arbitrary<number[]> = fc.array(fc.nat({ max: 1 << 16 }), { maxLength: 12 });

/** Splits bytes into chunks at the given points (each taken modulo the length). */
export function chunksOf(bytes: Buffer, points: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [];
  const cuts = [...new Set(points.map((p) => p % bytes.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** Seed lines as buffers (CRLF appended). */
export function lines(...texts: string[]): fc.Arbitrary<Buffer> {
  return fc.constantFrom(...texts.map((text) => Buffer.from(`${text}\r\n`, 'latin1')));
}
