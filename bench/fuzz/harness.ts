// Runs one fuzz target over N generated inputs and keeps the figures the issue
// asks for: crashes, inputs slower than the hang threshold, the slowest input,
// and the largest heap seen (sampled every 10,000 inputs).

import fc from 'fast-check';
import type { SyncTarget } from './targets.js';

export interface FuzzReport {
  target: string;
  inputs: number;
  crashes: number;
  hangs: number;
  maxMs: number;
  maxFirstMs: number;
  /** Socket targets: the longest the event loop was blocked (timer probe). */
  maxLoopDelayMs?: number;
  maxHeapMiB: number;
  seconds: number;
  /** The first few crashing (or hanging) inputs with what happened. */
  failures: Array<{ input: string; error: string }>;
}

export const HANG_MS = 100;
const BATCH = 1000;
const HEAP_SAMPLE_EVERY = 10_000;
const FAILURES_KEPT = 5;
/** Extra timings of an input that took longer than HANG_MS. */
const RETIMES = 2;

/** Figures accumulated input by input; shared by the in-memory and socket harnesses. */
export class FuzzTally {
  inputs = 0;
  crashes = 0;
  hangs = 0;
  maxMs = 0;
  /** Slowest first timing, before slow inputs were re-timed. */
  maxFirstMs = 0;
  maxHeapMiB = heapMiB();
  readonly failures: FuzzReport['failures'] = [];
  private readonly started = performance.now();

  constructor(readonly target: string, private readonly hangMs = HANG_MS) {}

  record(ms: number, show: () => string, error?: unknown): void {
    this.inputs += 1;
    if (ms > this.maxMs) this.maxMs = ms;
    if (error !== undefined) this.crashes += 1;
    if (ms > this.hangMs) this.hangs += 1;
    // Crashes are kept first; slow inputs only while there is room.
    const crashesKept = this.failures.filter((failure) => !failure.error.startsWith('took')).length;
    if (error !== undefined && crashesKept < FAILURES_KEPT) {
      if (this.failures.length >= FAILURES_KEPT) this.failures.pop();
      this.failures.splice(crashesKept, 0, { input: show(), error: describe(error) });
    } else if (error === undefined && ms > this.hangMs && this.failures.length < FAILURES_KEPT) {
      this.failures.push({ input: show(), error: `took ${ms.toFixed(1)} ms` });
    }
    if (this.inputs % HEAP_SAMPLE_EVERY === 0) this.sampleHeap();
  }

  maxLoopDelayMs: number | undefined;

  /** The event loop was blocked `ms` (socket targets): over the threshold it counts as a hang. */
  recordLoopDelay(ms: number, show: () => string): void {
    this.maxLoopDelayMs = Math.max(this.maxLoopDelayMs ?? 0, ms);
    if (ms > HANG_MS) {
      this.hangs += 1;
      if (this.failures.length < FAILURES_KEPT) this.failures.push({ input: show(), error: `took ${ms.toFixed(1)} ms: event loop blocked` });
    }
  }

  noteFirstTiming(ms: number): void {
    if (ms > this.maxFirstMs) this.maxFirstMs = ms;
  }

  sampleHeap(): void {
    this.maxHeapMiB = Math.max(this.maxHeapMiB, heapMiB());
  }

  report(): FuzzReport {
    this.sampleHeap();
    return {
      target: this.target, inputs: this.inputs, crashes: this.crashes, hangs: this.hangs, maxMs: this.maxMs, maxFirstMs: Math.max(this.maxFirstMs, this.maxMs), maxLoopDelayMs: this.maxLoopDelayMs,
      maxHeapMiB: this.maxHeapMiB, seconds: (performance.now() - this.started) / 1000, failures: this.failures,
    };
  }
}

export function heapMiB(): number {
  return process.memoryUsage().heapUsed / (1024 * 1024);
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack?.split('\n').slice(1, 4).join('\n') ?? ''}`;
  return String(error);
}

/** Generates inputs batch by batch (never all at once) from a seed, so a run of millions stays small. */
export function runSyncTarget<T>(
  target: SyncTarget<T>, count: number, seed: number, onProgress?: (tally: FuzzTally) => void,
): FuzzReport {
  const tally = new FuzzTally(target.name);
  for (let batch = 0; tally.inputs < count; batch++) {
    const size = Math.min(BATCH, count - tally.inputs);
    for (const input of fc.sample(target.input, { seed: seed + batch, numRuns: size })) {
      runOne(target, input, tally);
    }
    if (onProgress && tally.inputs % 100_000 === 0) onProgress(tally);
  }
  return tally.report();
}

/** Times one run; undefined error when the target did not throw. */
function timedRun<T>(target: SyncTarget<T>, input: T): { ms: number; error: unknown } {
  const start = performance.now();
  let error: unknown;
  try {
    target.run(input);
  } catch (caught) {
    error = caught ?? new Error('thrown undefined');
  }
  return { ms: performance.now() - start, error };
}

/**
 * On a shared 2-core machine a GC pause or a descheduling can stretch one run past
 * the threshold: a slow input is timed twice more and its fastest run counts.
 */
function runOne<T>(target: SyncTarget<T>, input: T, tally: FuzzTally): void {
  const first = timedRun(target, input);
  tally.noteFirstTiming(first.ms);
  let ms = first.ms;
  for (let retry = 0; retry < RETIMES && ms > HANG_MS && first.error === undefined; retry++) {
    ms = Math.min(ms, timedRun(target, input).ms);
  }
  tally.record(ms, () => target.show(input), first.error);
}

export interface EventLoopProbe {
  /** The harness itself is about to block the loop (generating inputs): skip this period. */
  excuseThisPeriod(): void;
  stop(): void;
}

/** Measures how late a 10 ms timer fires: the time the event loop was blocked. */
export function probeEventLoop(onDelay: (ms: number) => void): EventLoopProbe {
  const periodMs = 10;
  let expected = performance.now() + periodMs;
  let excused = false;
  const timer = setInterval(() => {
    const now = performance.now();
    if (!excused) onDelay(Math.max(0, now - expected));
    excused = false;
    expected = now + periodMs;
  }, periodMs);
  return {
    excuseThisPeriod: () => { excused = true; },
    stop: () => clearInterval(timer),
  };
}
