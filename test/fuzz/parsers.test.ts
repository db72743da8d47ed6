// Short fuzz passes over the in-memory parsers (the long runs are bench/fuzz/run.ts):
// a fixed seed, then a fresh random seed printed for replay. Any throw, broken
// invariant or input taking over a second (a hang, not a slow machine) fails.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SYNC_TARGETS, type SyncTarget } from '../../bench/fuzz/targets.js';

const FIXED_SEED = 20261203;
const FIXED_RUNS = 2000;
const RANDOM_RUNS = 1000;
const HANG_MS = 1000;

function runWithinLimit<T>(target: SyncTarget<T>, input: T): void {
  const start = performance.now();
  target.run(input);
  const ms = performance.now() - start;
  if (ms > HANG_MS) throw new Error(`${target.name} took ${ms.toFixed(0)} ms on one input`);
}

function fuzz<T>(target: SyncTarget<T>, seed: number, numRuns: number): void {
  fc.assert(fc.property(target.input, (input) => runWithinLimit(target, input)), { seed, numRuns });
}

describe('parser fuzzing', () => {
  for (const target of SYNC_TARGETS as ReadonlyArray<SyncTarget<unknown>>) {
    it(`${target.name}: ${FIXED_RUNS} inputs from the fixed seed never crash or hang`, () => {
      fuzz(target, FIXED_SEED, FIXED_RUNS);
    });

    it(`${target.name}: ${RANDOM_RUNS} inputs from a random seed never crash or hang`, () => {
      const seed = Math.floor(Math.random() * 2 ** 31);
      console.info(`fuzz ${target.name}: random seed ${seed} (on failure fast-check prints the seed, path and shrunk input)`);
      fuzz(target, seed, RANDOM_RUNS);
    });
  }

  it('covers every target the issue names', () => {
    expect(SYNC_TARGETS.map((target) => target.name)).toEqual([
      'imap-parser', 'imap-framer', 'pop3-commands', 'mime-analyzer', 'address-parser',
    ]);
  });
});
