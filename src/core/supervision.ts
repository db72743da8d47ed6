// The small layer over nact that every actor uses: typed ask (a request with a timeout,
// answered through src/core/reply-slots.ts: unique reply ids, where nact's `query` draws
// random ones that can collide) and the Failure answer every request type can carry. Actors are defined and started with
// src/core/actor.ts; `spawn` stays exported for tests that run a behaviour bare.
import nact from 'nact';
import type { Ref } from 'nact';
import { DEFAULT_ASK_TIMEOUT, ReplySlots } from './reply-slots.js';

export const { spawn, dispatch, stop, start } = nact;
export type { Ref };

export { DEFAULT_ASK_TIMEOUT };

/** Every ask of the process: one counter of reply ids; timeouts fire up to 100 ms late. */
const replies = new ReplySlots(100);

/** A failure answer every request type can carry. */
export interface Failure {
  ok: false;
  error: string;
  /** True when retrying later may succeed (4xx-like). */
  temporary: boolean;
  /** A protocol-neutral reason a session can map to a response code (IMAP TRYCREATE, NONEXISTENT, ...). */
  code?: FailureCode;
}

export type FailureCode = 'NONEXISTENT' | 'ALREADYEXISTS' | 'TRYCREATE' | 'OVERQUOTA' | 'CANNOT' | 'HASCHILDREN' | 'INUSE' | 'LIMIT' | 'NOPERM';

export function failure(error: string, temporary = true, code?: FailureCode): Failure {
  return code === undefined ? { ok: false, error, temporary } : { ok: false, error, temporary, code };
}

/**
 * A replyTo for a request that is only built to be sent on (to another process, which
 * adds its own replyTo): anything dispatched to it goes nowhere.
 */
export function nobody<T>(): Ref<T> {
  return new nact.Nobody();
}

/** True for a reference to a live actor (not a query's temporary reply reference, not nobody). */
export function isActorRef<T>(value: unknown): value is Ref<T> {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'actor';
}

export function ask<Req, Res>(
  ref: Ref<Req>, build: (replyTo: Ref<Res>) => Req, timeoutMs = DEFAULT_ASK_TIMEOUT,
): Promise<Res> {
  return replies.ask(ref, build, timeoutMs);
}
