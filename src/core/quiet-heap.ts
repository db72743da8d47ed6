// Gives the young generation back when the process is quiet. V8 grows its new space
// (up to 2 × 16 MiB on this Node) while a burst of work keeps many objects alive, for
// example thousands of logins of IMAP clients that then sit in IDLE, and shrinks it
// again only at a garbage collection that sees a low allocation rate. A quiet server
// allocates so little that such a collection may not come for a long time, and the
// committed pages stay in its RSS (about 30 MiB after a W5 burst, docs/benchmarks.md
// round 10). So every two seconds, when the event loop was almost idle since the last
// look and the new space is large, one minor collection runs: on a quiet heap it takes
// well under a millisecond, and V8 then shrinks the space. Under load it never runs.
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Logger } from './logger.js';

const CHECK_EVERY_MS = 2000;
/** Event-loop busy share below which the process counts as quiet. */
const QUIET_UTILIZATION = 0.05;
/** New space (both semi-spaces) worth giving back above. */
const LARGE_NEW_SPACE_BYTES = 4 * 1024 * 1024;

type Collect = (options: { type: 'minor' | 'major' }) => void;

/** True when a look at the process finds it quiet with a large young generation. */
export function shouldTrim(utilization: number, newSpaceBytes: number): boolean {
  return utilization < QUIET_UTILIZATION && newSpaceBytes > LARGE_NEW_SPACE_BYTES;
}

export function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

/** V8's collector as a function: exposed in a context of its own, not as a global of this one. */
function collector(): Collect {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as Collect;
}

/** One look: a minor collection when quiet and large. Returns whether it ran. */
export function trimIfQuiet(collect: Collect, utilization: number): boolean {
  if (!shouldTrim(utilization, newSpaceBytes())) return false;
  collect({ type: 'minor' });
  return true;
}

/** Starts the periodic look (unref'd: it never keeps the process alive). */
export function startQuietHeapTrim(log: Logger): void {
  const collect = collector();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const since = performance.eventLoopUtilization(now, last);
    last = now;
    const before = newSpaceBytes();
    if (trimIfQuiet(collect, since.utilization)) {
      log.debug({ newSpaceBefore: before, newSpaceAfter: newSpaceBytes() }, 'quiet: young generation collected');
    }
  }, CHECK_EVERY_MS).unref();
}
