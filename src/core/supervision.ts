// The small layer over nact that every actor uses: typed ask (query with a timeout) and
// the Failure answer every request type can carry. Actors are defined and started with
// src/core/actor.ts; `spawn` stays exported for tests that run a behaviour bare.
import nact from 'nact';
import type { Ref } from 'nact';

export const { spawn, dispatch, query, stop, start } = nact;
export type { Ref };

export const DEFAULT_ASK_TIMEOUT = 30_000;

/** A failure answer every request type can carry. */
export interface Failure {
  ok: false;
  error: string;
  /** True when retrying later may succeed (4xx-like). */
  temporary: boolean;
  /** A protocol-neutral reason a session can map to a response code (IMAP TRYCREATE, NONEXISTENT, ...). */
  code?: FailureCode;
}

export type FailureCode = 'NONEXISTENT' | 'ALREADYEXISTS' | 'TRYCREATE' | 'OVERQUOTA' | 'CANNOT' | 'INUSE' | 'LIMIT' | 'NOPERM';

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

export async function ask<Req, Res>(
  ref: Ref<Req>, build: (replyTo: Ref<Res>) => Req, timeoutMs = DEFAULT_ASK_TIMEOUT,
): Promise<Res> {
  return (await query(ref, build as never, timeoutMs)) as Res;
}
