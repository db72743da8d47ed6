// The small layer over nact that every actor uses: typed ask (query with a timeout),
// and the crash policies (log, answer the failed request, restart from disk state).
import nact from 'nact';
import type { Ref, SupervisionActorFunc } from 'nact';
import type { Logger } from './logger.js';

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

export type FailureCode = 'NONEXISTENT' | 'ALREADYEXISTS' | 'TRYCREATE' | 'OVERQUOTA' | 'CANNOT' | 'INUSE' | 'LIMIT';

export function failure(error: string, temporary = true, code?: FailureCode): Failure {
  return code === undefined ? { ok: false, error, temporary } : { ok: false, error, temporary, code };
}

export async function ask<Req, Res>(
  ref: Ref<Req>, build: (replyTo: Ref<Res>) => Req, timeoutMs = DEFAULT_ASK_TIMEOUT,
): Promise<Res> {
  return (await query(ref, build as never, timeoutMs)) as Res;
}

/**
 * onCrash policy for actors whose state can be rebuilt from disk: log the error,
 * tell the waiting caller (if the failed message had a replyTo), and reset.
 */
export function resetOnCrash<Msg>(log: Logger, what: string): SupervisionActorFunc<Msg, Ref<unknown>, Ref<unknown>> {
  return (msg, err, ctx) => {
    log.error({ err, actor: ctx.name, what }, 'actor crashed; restarting it');
    const replyTo = (msg as { replyTo?: Ref<unknown> } | undefined)?.replyTo;
    if (replyTo) dispatch(replyTo, failure(`internal error in ${what}`));
    return ctx.reset;
  };
}

/** onCrash policy for actors that keep no state worth rebuilding: log and go on. */
export function resumeOnCrash<Msg>(log: Logger, what: string): SupervisionActorFunc<Msg, Ref<unknown>, Ref<unknown>> {
  return (msg, err, ctx) => {
    log.error({ err, actor: ctx.name, what }, 'actor crashed; resuming it');
    const replyTo = (msg as { replyTo?: Ref<unknown> } | undefined)?.replyTo;
    if (replyTo) dispatch(replyTo, failure(`internal error in ${what}`));
    return ctx.resume;
  };
}
