// The quiet-time trim of V8's young generation: it collects only when the event loop
// was almost idle and the new space is large, and the collector it uses is V8's own.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { newSpaceBytes, shouldTrim, trimIfQuiet } from '../../src/core/quiet-heap.js';

const MiB = 1024 * 1024;

describe('quiet heap trim', () => {
  it('trims only a quiet process with a large new space', () => {
    expect(shouldTrim(0.01, 32 * MiB)).toBe(true);
    expect(shouldTrim(0.5, 32 * MiB)).toBe(false);
    expect(shouldTrim(0.01, 2 * MiB)).toBe(false);
  });

  it('runs a minor collection through V8 when quiet, and none when busy', () => {
    // Grow the young generation: many objects that survive a few scavenges.
    const keep: object[][] = [];
    for (let round = 0; round < 40; round++) keep.push(Array.from({ length: 20_000 }, (_, i) => ({ i, round })));
    expect(newSpaceBytes()).toBeGreaterThan(4 * MiB);
    const calls: string[] = [];
    expect(trimIfQuiet((o) => calls.push(o.type), 0.9)).toBe(false);
    expect(calls).toEqual([]);
    expect(trimIfQuiet((o) => calls.push(o.type), 0.0)).toBe(true);
    expect(calls).toEqual(['minor']);
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (o: { type: 'minor' }) => void;
    keep.length = 0;
    expect(() => gc({ type: 'minor' })).not.toThrow();
  });
});
