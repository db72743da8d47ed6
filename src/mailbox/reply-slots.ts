// Answers from local mailbox actors without nact's `query`. A query costs, per request,
// a 30 s timer set and cleared, a Deferral with two extra promise chains, and a
// temporary reference whose id is 32 random bits (`Math.random() * MAX_SAFE_INTEGER | 0`):
// with thousands of deliveries in flight two can draw the same id, and one then gets
// the other's answer. Here each request gets a reference with an id from a counter
// (above nact's 32-bit range, so never one of its own), registered the way nact
// registers its temporary references, so the actor answers with the usual
// `dispatch(replyTo, …)`; one sweep a second rejects requests past their deadline
// (so a timeout fires up to a second late). Should nact's internals differ, `ask` is used.
// Used on the hot path only: every request to a mailbox actor of this node.
import { createRequire } from 'node:module';
import type { Ref } from 'nact';
import { ask, DEFAULT_ASK_TIMEOUT, dispatch } from '../core/supervision.js';

interface ReplyTarget {
  resolve: (value: unknown) => void;
}

interface ActorSystem {
  find(ref: unknown): unknown;
  addTempReference(ref: TempRef, target: ReplyTarget): void;
  removeTempReference(ref: TempRef): void;
}

interface TempRef {
  system: { name: string };
  id: number;
  type: 'temp';
}

interface Waiting {
  reject: (err: Error) => void;
  deadline: number;
  system: ActorSystem;
  ref: TempRef;
}

// nact 7.6 (pinned): the map of running actor systems, which `dispatch` itself uses to find a reference's target.
const require = createRequire(import.meta.url);
const systems = require('nact/lib/system-map.js') as { find(name: string): ActorSystem | undefined };

/** Above 2^32: nact's own temporary references are 32-bit integers. */
const FIRST_ID = 2 ** 33;

export class ReplySlots {
  private nextId = FIRST_ID;
  private readonly waiting = new Map<number, Waiting>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepMs = 1000) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), sweepMs);
    this.sweeper.unref();
  }

  /** How many requests wait for an answer. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Sends the request built with a reply reference; resolves with the first answer, rejects after `timeoutMs`. */
  ask<Req, Res>(target: Ref<Req>, build: (replyTo: Ref<Res>) => Req, timeoutMs = DEFAULT_ASK_TIMEOUT): Promise<Res> {
    const systemName = (target as unknown as { system: { name: string } }).system.name;
    const system = systems.find(systemName);
    // Another nact than the one this was written against: its own query, timer and all.
    if (!system || typeof system.addTempReference !== 'function') return ask(target, build, timeoutMs);
    // As nact's query does: a stopped actor can never answer.
    if (!system.find(target)) return Promise.reject(new Error('Actor stopped or never existed. Query can never resolve'));
    const id = this.nextId++;
    const ref: TempRef = { system: { name: systemName }, id, type: 'temp' };
    return new Promise<Res>((resolve, reject) => {
      system.addTempReference(ref, {
        resolve: (value) => {
          if (!this.waiting.delete(id)) return;
          system.removeTempReference(ref);
          resolve(value as Res);
        },
      });
      this.waiting.set(id, { reject, deadline: Date.now() + timeoutMs, system, ref });
      dispatch(target, build(ref as unknown as Ref<Res>));
    });
  }

  /** Rejects every request whose deadline is before `now`. */
  sweep(now: number): void {
    for (const [id, w] of this.waiting) {
      if (w.deadline > now) continue;
      this.waiting.delete(id);
      w.system.removeTempReference(w.ref);
      w.reject(new Error('Query Timeout'));
    }
  }

  /** Stops the sweep; requests still waiting are rejected. */
  close(): void {
    clearInterval(this.sweeper);
    this.sweep(Number.POSITIVE_INFINITY);
  }
}
