// Progress bars of the long commands: redrawn in place with an ETA on a terminal,
// plain lines at most every few seconds (and at the end) off it.
import { describe, expect, it } from 'vitest';
import { formatEta, Progress } from '../../src/cli/progress.js';

function recorder(tty: boolean) {
  let now = 0;
  const written: string[] = [];
  const progress = new Progress('export', 100, { unit: 'messages', tty, write: (t) => written.push(t), now: () => now, plainEveryMs: 2000 });
  return { progress, written, advance: (ms: number) => (now += ms) };
}

describe('progress', () => {
  it('redraws one line with a bar and an ETA on a terminal', () => {
    const { progress, written, advance } = recorder(true);
    advance(10_000);
    progress.update(25, 'INBOX');
    progress.finish(100);
    expect(written[0]).toBe(`\rexport [${'#'.repeat(8)}${'.'.repeat(22)}] 25/100 messages  INBOX  ETA 0:30`);
    expect(written[1]).toBe(`\rexport [${'#'.repeat(30)}] 100/100 messages  ETA 0:00\n`);
  });

  it('prints plain lines, at most one per interval, off a terminal', () => {
    const { progress, written, advance } = recorder(false);
    advance(2000);
    progress.update(1);
    progress.update(2);
    advance(2000);
    progress.update(3);
    progress.finish(100);
    expect(written.map((l) => l.includes('\r'))).toEqual([false, false, false]);
    expect(written.map((l) => /\] (\d+)\//.exec(l)![1])).toEqual(['1', '3', '100']);
  });

  it('formats an ETA as m:ss or h:mm:ss', () => {
    expect([formatEta(5), formatEta(65), formatEta(3725), formatEta(Number.POSITIVE_INFINITY)]).toEqual(['0:05', '1:05', '1:02:05', '?']);
  });
});
