// The dashboard's costly parts (every mailbox summed) are recomputed at most once per
// twenty times their last duration, and at once after a failure.
import { describe, expect, it } from 'vitest';
import { Throttled } from '../../src/admin/dashboard-data.js';

describe('Throttled', () => {
  it('reuses a value while it is fresh, recomputes after, and retries at once after a failure', async () => {
    let calls = 0;
    let fail = false;
    const value = new Throttled(async () => {
      calls += 1;
      if (fail) throw new Error('store busy');
      return calls;
    }, 50);
    expect(await value.get()).toBe(1);
    expect(await value.get()).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    fail = true;
    await expect(value.get()).rejects.toThrow('store busy');
    fail = false;
    expect(await value.get()).toBe(3);
  });

  it('waits twenty times as long as a slow computation took', async () => {
    let calls = 0;
    const value = new Throttled(async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 20));
      return calls;
    }, 1);
    await value.get();
    const now = Date.now();
    expect(await value.get(now + 300)).toBe(1);
    expect(await value.get(now + 1000)).toBe(2);
  });
});
