// The restart decision shared by actors and worker processes: at most `intensity`
// restarts in `period` seconds, then back off (if the policy says how) or give up.
import { describe, expect, it } from 'vitest';
import { decideRestart, type RestartPolicy } from '../../src/core/restart-policy.js';
import { WORKER_RESTART } from '../../src/primary.js';

function run(policy: RestartPolicy, times: number[]) {
  let history: number[] = [];
  return times.map((now) => {
    const verdict = decideRestart(history, now, policy);
    history = verdict.recent;
    return verdict.decision;
  });
}

describe('decideRestart', () => {
  it('restarts up to intensity times within the period, then gives up', () => {
    const decisions = run({ intensity: 3, period: 10 }, [0, 1000, 2000, 3000]);
    expect(decisions).toEqual([
      { action: 'restart', delayMs: 0 }, { action: 'restart', delayMs: 0 }, { action: 'restart', delayMs: 0 }, { action: 'give-up' },
    ]);
  });

  it('forgets restarts older than the period', () => {
    const decisions = run({ intensity: 2, period: 1 }, [0, 500, 1600, 2100]);
    expect(decisions.map((d) => d.action)).toEqual(['restart', 'restart', 'restart', 'restart']);
  });

  it('restarts a worker process after 200 ms, and past 5 restarts a minute backs off from 2 s up to a minute', () => {
    const decisions = run(WORKER_RESTART, Array.from({ length: 12 }, (_, i) => i * 100));
    expect(decisions.slice(0, 5)).toEqual(Array(5).fill({ action: 'restart', delayMs: 200 }));
    expect(decisions.slice(5).map((d) => (d as { delayMs: number }).delayMs)).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    expect(decisions.slice(5).every((d) => d.action === 'backoff')).toBe(true);
  });
});
