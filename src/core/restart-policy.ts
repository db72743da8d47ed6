// A restart policy is data, OTP style: at most `intensity` restarts within `period`
// seconds. Past that, a supervisor either gives up (an actor is stopped) or, when the
// policy says how, backs off exponentially (a worker process keeps being retried, more
// and more slowly, until the fault is gone). One pure function decides, for actors
// (src/core/actor.ts) and worker processes (src/primary.ts) alike.

/** How many restarts a supervisor allows in how long. */
export interface RestartLimit {
  /** Restarts allowed within `period`; one more and the policy's limit is reached. */
  intensity: number;
  /** The sliding window, in seconds. */
  period: number;
}

/** Past the limit, wait `baseMs · 2ⁿ` (n = restarts beyond the limit), at most `maxMs`. */
export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export interface RestartPolicy extends RestartLimit {
  /** Wait before an ordinary restart, in milliseconds (default 0). */
  delayMs?: number;
  /** Without it, a supervisor gives up once past the limit. */
  backoff?: Backoff;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number }
  | { action: 'backoff'; delayMs: number }
  | { action: 'give-up' };

export interface RestartVerdict {
  decision: RestartDecision;
  /** The restart times still inside the window, this one included: keep them for the next call. */
  recent: number[];
}

/**
 * Given the times of earlier restarts and the time of this crash, what to do now.
 * A restart counts against the limit for `period` seconds after it happened.
 */
export function decideRestart(history: readonly number[], now: number, policy: RestartPolicy): RestartVerdict {
  const windowStart = now - policy.period * 1000;
  const recent = history.filter((t) => t > windowStart);
  recent.push(now);
  const beyond = recent.length - policy.intensity;
  if (beyond <= 0) return { decision: { action: 'restart', delayMs: policy.delayMs ?? 0 }, recent };
  if (!policy.backoff) return { decision: { action: 'give-up' }, recent };
  const delayMs = Math.min(policy.backoff.maxMs, policy.backoff.baseMs * 2 ** beyond);
  return { decision: { action: 'backoff', delayMs }, recent };
}
