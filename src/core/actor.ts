// The one way to define and start an actor. A definition names the job, gives the
// handler and, as data, what a crash does: `reset` (rebuild state, e.g. from disk),
// `resume` (keep state, take the next message) or `stop`, at most `intensity` times in
// `period` seconds (OTP's restart intensity). Past that the actor is stopped, the log
// says why, and the owner's `onGiveUp` runs: an owner holding refs in a map drops the
// stopped one (a fresh actor next time), a singleton escalates to the process, as an
// OTP supervisor past its intensity fails its own supervisor. Whatever the strategy, the caller waiting on the failed message gets an
// answer at once instead of a timeout. The one crash handler is built here from the
// policy; spawnActor returns a typed ref, so call sites need no casts.
import nact from 'nact';
import type { ActorContext, Ref, SupervisionActorFunc } from 'nact';
import type { Logger } from './logger.js';
import { decideRestart, type RestartLimit } from './restart-policy.js';
import { failure } from './supervision.js';

/** What a crash does to the actor, and how often it may happen before the actor is stopped. */
export type ActorRestart = ({ strategy: 'reset' | 'resume' } & RestartLimit) | { strategy: 'stop' };

export type ActorHandler<Msg, State> = (state: State, msg: Msg, ctx: ActorContext<Msg, Ref<unknown>>) => State | Promise<State>;

export interface ActorDefinition<Msg, State> {
  /** What the actor is, for the log: "mailbox m1", "domain queue example.org". */
  what: string;
  handle: ActorHandler<Msg, State>;
  /** The state at start and after a reset; without it the handler starts from `undefined`. */
  initialState?: (ctx: ActorContext<Msg, Ref<unknown>>) => State;
  restart: ActorRestart;
  /**
   * Tells whoever must know about the crash: the sender of the message whose handling
   * crashed (`msg`, when there is one), the actor's owner. Default: a temporary
   * Failure to the message's `replyTo`, if it has one.
   */
  reportCrash?: (msg: Msg | undefined, self: Ref<Msg>, err: Error | undefined) => void;
  /**
   * The owner's part once the actor is stopped for crashing too often: drop its ref so
   * the next use starts a fresh actor, or `escalate` (src/core/process-policy.ts).
   * Without it nobody would notice, and messages to the stopped ref would go nowhere.
   */
  onGiveUp?: (self: Ref<Msg>) => void;
}

/** The limit of the server's long-lived actors: ten crashes a minute means a fault restarts won't cure. */
export const LONG_LIVED: RestartLimit = { intensity: 10, period: 60 };

export function defineActor<Msg, State = undefined>(definition: ActorDefinition<Msg, State>): ActorDefinition<Msg, State> {
  return definition;
}

export function spawnActor<Msg, State>(parent: Ref<unknown>, definition: ActorDefinition<Msg, State>, name: string, log: Logger): Ref<Msg> {
  const props = {
    onCrash: crashHandler(definition, log),
    ...(definition.initialState ? { initialStateFunc: definition.initialState } : {}),
  };
  return nact.spawn(parent, definition.handle as never, name, props as never);
}

/** An actor that receives nothing and only holds children (one per kind, for shutdown and paths). */
export function spawnGroup(parent: Ref<unknown>, name: string): Ref<never> {
  return nact.spawn(parent, (state: undefined) => state, name);
}

function crashHandler<Msg, State>(definition: ActorDefinition<Msg, State>, log: Logger): SupervisionActorFunc<Msg, Ref<unknown>, Ref<unknown>> {
  const { what, restart } = definition;
  const report = definition.reportCrash ?? ((msg: Msg | undefined) => answerReplyTo(msg, what));
  let restarts: number[] = [];
  return (msg, err, ctx) => {
    report(msg, ctx.self, err);
    if (restart.strategy === 'stop') {
      log.error({ err, actorName: ctx.name, what }, 'actor crashed; stopping it');
      definition.onGiveUp?.(ctx.self);
      return ctx.stop;
    }
    const verdict = decideRestart(restarts, Date.now(), restart);
    restarts = verdict.recent;
    if (verdict.decision.action === 'give-up') {
      log.error({ err, actorName: ctx.name, what, intensity: restart.intensity, period: restart.period },
        `actor crashed more than ${restart.intensity} times in ${restart.period} s; stopping it`);
      definition.onGiveUp?.(ctx.self);
      return ctx.stop;
    }
    const reset = restart.strategy === 'reset';
    log.error({ err, actorName: ctx.name, what }, reset ? 'actor crashed; restarting it' : 'actor crashed; resuming it');
    return reset ? ctx.reset : ctx.resume;
  };
}

function answerReplyTo(msg: unknown, what: string): void {
  const replyTo = (msg as { replyTo?: Ref<unknown> } | null | undefined)?.replyTo;
  if (replyTo) nact.dispatch(replyTo, failure(`internal error in ${what}`));
}
