// Which first copies of forwarded deliveries must read their delivery marker: only those of
// which a copy that may repeat reached this process, and all of them once a mailbox moved in
// or the tracker is full (src/mailbox/repeated-deliveries.ts).
import { describe, expect, it } from 'vitest';
import { RepeatedDeliveries } from '../../src/mailbox/repeated-deliveries.js';

describe('RepeatedDeliveries', () => {
  it('asks for the check only for deliveries whose copy arrived, or for all once told to assume any', () => {
    const repeats = new RepeatedDeliveries();
    expect(repeats.mayExist('q1.0')).toBe(false);
    repeats.note('q1.0');
    expect([repeats.mayExist('q1.0'), repeats.mayExist('q1.1')]).toEqual([true, false]);
    repeats.assumeAny();
    expect(repeats.mayExist('q2.0')).toBe(true);
  });

  it('checks every forwarded delivery once it has tracked too many ids, instead of growing', () => {
    const repeats = new RepeatedDeliveries();
    for (let i = 0; i <= 200_000; i++) repeats.note(`q${i}.0`);
    expect(repeats.mayExist('never-seen.0')).toBe(true);
  });
});
