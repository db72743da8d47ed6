// The shared timeout sweep: one timer wakes only the connections whose timeout is due,
// holds no timer while empty, and a connection removed is never woken again.
import { describe, expect, it } from 'vitest';
import { TimeoutSweep, sweepEvery, type SweptConnection } from '../../src/net/timeout-sweep.js';

function member(due: () => boolean): SweptConnection & { woken: number } {
  const m = { woken: 0, timeoutDue: () => due(), onTimeoutDue: () => { m.woken += 1; } };
  return m;
}

const ticks = (sweep: TimeoutSweep, n: number) => new Promise<void>((resolve) => {
  // Resolves after n sweeps have run: a member that counts every visit.
  let seen = 0;
  const counter = member(() => (seen += 1) >= n);
  const watcher = { timeoutDue: counter.timeoutDue, onTimeoutDue: () => { sweep.delete(watcher); resolve(); } };
  sweep.add(watcher);
});

describe('TimeoutSweep', () => {
  it('wakes only members whose timeout is due, and none after they leave', async () => {
    const sweep = new TimeoutSweep(10);
    let late = false;
    const quiet = member(() => false);
    const expiring = member(() => late);
    sweep.add(quiet);
    sweep.add(expiring);
    await ticks(sweep, 2);
    expect(quiet.woken + expiring.woken).toBe(0);
    late = true;
    await ticks(sweep, 2);
    expect(expiring.woken).toBeGreaterThan(0);
    sweep.delete(expiring);
    const after = expiring.woken;
    await ticks(sweep, 3);
    expect(expiring.woken).toBe(after);
    expect(quiet.woken).toBe(0);
    sweep.delete(quiet);
    expect(sweep.size).toBe(0);
  });

  it('is shared by period', () => {
    expect(sweepEvery(1234)).toBe(sweepEvery(1234));
    expect(sweepEvery(1234)).not.toBe(sweepEvery(1235));
  });
});
