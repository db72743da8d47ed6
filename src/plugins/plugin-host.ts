// One plugin at run time: its actor and its supervision. Hook calls are messages to
// the plugin's actor, which starts each call and answers when it settles (calls run
// concurrently; the actor only owns the plugin's incarnation: its setup and its own
// actors). Every call has the plugin's timeout. A call that throws or times out is
// logged with the plugin's name and the actor is restarted (reset: its actors are
// stopped and setup runs again); past PLUGIN_RESTARTS the plugin is backed off: its
// hooks are not called, and their callers get the plugin's onError outcome, until the
// backoff ends. Calls, errors and time per hook are counted for `ternmail plugins`.
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import { ask, dispatch } from '../core/supervision.js';
import { defineActor, spawnActor } from '../core/actor.js';
import { decideRestart, type RestartPolicy } from '../core/restart-policy.js';
import type { HookName } from './contract/events.js';
import type { PluginApi } from './contract/plugin.js';
import type { LoadedPlugin } from './loader.js';
import { pluginApi, type ApiContext } from './plugin-api.js';

/** More than 5 failures within a minute backs a plugin off: 2 s, 4 s, ... up to 5 minutes. */
export const PLUGIN_RESTARTS: RestartPolicy = { intensity: 5, period: 60, backoff: { baseMs: 1000, maxMs: 5 * 60_000 } };

type CallReply = { ok: true; verdict: unknown } | { ok: false; error: Error };

type PluginMessage =
  | { type: 'call'; hook: HookName; event: unknown; replyTo: Ref<CallReply> }
  /** A call failed (thrown or timed out): crash, so the supervisor restarts the plugin. */
  | { type: 'restart'; cause: Error };

interface Incarnation {
  api: PluginApi;
  /** Settles when setup has run; rejected when it threw. */
  ready: Promise<void>;
}

export type CallResult = { ok: true; verdict: unknown } | { ok: false; error: Error };

export interface HookStats { calls: number; errors: number; skipped: number; totalMs: number }

export interface PluginStatus {
  name: string;
  module: string;
  onError: 'tempfail' | 'continue';
  timeoutMs: number;
  state: 'running' | 'backoff';
  /** Milliseconds of backoff left (0 when running). */
  backoffMs: number;
  restarts: number;
  lastError: string | null;
  hooks: Array<{ hook: HookName; calls: number; errors: number; skipped: number; avgMs: number }>;
}

export class PluginHost {
  readonly name: string;
  readonly onError: 'tempfail' | 'continue';
  private readonly ref: Ref<PluginMessage>;
  private readonly stats = new Map<HookName, HookStats>();
  private readonly log: Logger;
  private history: number[] = [];
  private backoffUntil = 0;
  private restarts = 0;
  private lastError: string | null = null;
  private firstSetup: Promise<void> = Promise.resolve();

  constructor(private readonly plugin: LoadedPlugin, parent: Ref<unknown>, context: Omit<ApiContext, 'name' | 'options' | 'log'>, log: Logger) {
    this.name = plugin.definition.name;
    this.onError = plugin.spec.onError;
    this.log = log.child({ plugin: this.name });
    for (const hook of plugin.hooks) this.stats.set(hook, { calls: 0, errors: 0, skipped: 0, totalMs: 0 });
    const apiContext: ApiContext = { ...context, name: this.name, options: plugin.spec.options, log: this.log };
    let first = true;
    const actor = defineActor<PluginMessage, Incarnation>({
      what: `plugin ${this.name}`,
      initialState: (ctx) => {
        const api = pluginApi(apiContext, ctx.self);
        const ready = Promise.resolve().then(() => plugin.definition.setup?.(api, plugin.spec.options));
        if (first) this.firstSetup = ready;
        first = false;
        ready.catch(() => undefined); // a failed setup fails every call until the next restart
        return { api, ready };
      },
      handle: (state, msg) => {
        if (msg.type === 'restart') throw msg.cause;
        const hook = plugin.definition.hooks[msg.hook] as (event: unknown, api: PluginApi) => unknown;
        state.ready.then(() => hook(msg.event, state.api)).then(
          (verdict) => dispatch(msg.replyTo, { ok: true, verdict }),
          (err: unknown) => dispatch(msg.replyTo, { ok: false, error: err instanceof Error ? err : new Error(String(err)) }),
        );
        return state;
      },
      // Backoff is decided here, per plugin, not by the actor layer: the actor itself always restarts.
      restart: { strategy: 'reset', intensity: Number.POSITIVE_INFINITY, period: 60 },
      reportCrash: () => undefined,
    });
    this.ref = spawnActor(parent, actor, `plugin-${this.name}`, this.log);
  }

  /** Resolves when the first setup has run; rejects with its error. */
  started(): Promise<void> {
    return this.firstSetup;
  }

  async call(hook: HookName, event: unknown): Promise<CallResult> {
    const stats = this.stats.get(hook)!;
    if (this.backoffUntil > Date.now()) {
      stats.skipped += 1;
      return { ok: false, error: new Error(`plugin ${this.name} is backed off after repeated failures`) };
    }
    stats.calls += 1;
    const started = performance.now();
    let reply: CallReply;
    try {
      reply = await ask<PluginMessage, CallReply>(this.ref, (replyTo) => ({ type: 'call', hook, event, replyTo }), this.plugin.spec.timeoutMs);
    } catch {
      reply = { ok: false, error: new Error(`hook ${hook} did not answer within ${this.plugin.spec.timeoutMs} ms`) };
    }
    stats.totalMs += performance.now() - started;
    if (reply.ok) return reply;
    stats.errors += 1;
    this.failed(hook, reply.error);
    return reply;
  }

  private failed(hook: HookName, err: Error): void {
    this.lastError = `${hook}: ${err.message}`;
    this.restarts += 1;
    const now = Date.now();
    const verdict = decideRestart(this.history, now, PLUGIN_RESTARTS);
    this.history = verdict.recent;
    if (verdict.decision.action === 'backoff') {
      this.backoffUntil = now + verdict.decision.delayMs;
      this.log.error({ err, hook, backoffMs: verdict.decision.delayMs, onError: this.onError }, `plugin ${this.name} keeps failing; backed off`);
    } else {
      this.log.error({ err, hook, onError: this.onError }, `plugin ${this.name} failed in ${hook}; restarting it`);
    }
    dispatch(this.ref, { type: 'restart', cause: err });
  }

  status(): PluginStatus {
    const backoffMs = Math.max(0, this.backoffUntil - Date.now());
    return {
      name: this.name, module: this.plugin.spec.module, onError: this.onError, timeoutMs: this.plugin.spec.timeoutMs,
      state: backoffMs > 0 ? 'backoff' : 'running', backoffMs, restarts: this.restarts, lastError: this.lastError,
      hooks: [...this.stats].map(([hook, s]) => ({
        hook, calls: s.calls, errors: s.errors, skipped: s.skipped, avgMs: s.calls > 0 ? Math.round((s.totalMs / s.calls) * 100) / 100 : 0,
      })),
    };
  }
}
