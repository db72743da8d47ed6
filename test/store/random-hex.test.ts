// randomHex: the pooled random source behind queue ids and upload storage ids gives
// hex of the asked length, and ids drawn across many pool refills do not repeat.
import { expect, it } from 'vitest';
import { randomHex } from '../../src/store/random-hex.js';
import { newQueueId } from '../../src/store/queue-store.js';

it('gives distinct hex strings of the asked length across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = randomHex(12);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    seen.add(id);
  }
  expect(seen.size).toBe(5000);
  expect(randomHex(64)).toHaveLength(128);
  expect(() => randomHex(65)).toThrow(RangeError);
  const queueIds = new Set(Array.from({ length: 3000 }, () => newQueueId()));
  expect(queueIds.size).toBe(3000);
});
