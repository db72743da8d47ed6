// Answers to requests sent to actors, without nact's `query`. nact's query draws each
// temporary reply reference's id from 32 random bits (`Math.random() * MAX_SAFE_INTEGER | 0`)
// and keys its table of waiting requests by that id: with thousands of requests in
// flight two can draw the same id, the second overwrites the first, and the first
// caller's answer resolves the second caller while the first times out. A query also
// costs a timer set and cleared and a Deferral with two extra promise chains.
// Here each request gets a reply reference whose id comes from a counter (above nact's
// 32-bit range, so never one of its own), registered the way nact registers its
// temporary references, so an actor answers with the usual `dispatch(replyTo, …)`.
// A sweep, running only while something waits, rejects requests past their deadline
// (so a timeout fires up to one sweep interval late). Every ask in the server goes
// through here (src/core/supervision.ts `ask`, the mailbox registry's own instance).
import { createRequire } from 'node:module';
import nact from 'nact';
import type { Ref } from 'nact';

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

// nact 7.6 (pinned): the map of running actor systems, which `dispatch` itself uses to
// find a reference's target. Checked once at load, so an upgrade that changes it fails
// every test at once instead of silently falling back to colliding ids.
const require = createRequire(import.meta.url);
const systems = require('nact/lib/system-map.js') as { find(name: string): ActorSystem | undefined };
if (typeof systems?.find !== 'function') throw new Error('nact internals changed: nact/lib/system-map.js has no find(); src/core/reply-slots.ts needs updating');

/**
 * The next reply id, shared by every ReplySlots of the process: they all register in
 * the same actor system's table, so two instances counting on their own would hand out
 * the same ids. Starts above 2^32: nact's own temporary references are 32-bit integers.
 */
let nextId = 2 ** 33;

/** The default ask timeout of the server (30 s). */
export const DEFAULT_ASK_TIMEOUT = 30_000;

export class ReplySlots {
  private readonly waiting = new Map<number, Waiting>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly sweepMs = 1000) {}

  /** How many requests wait for an answer. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Sends the request built with a reply reference; resolves with the first answer, rejects after `timeoutMs`. */
  ask<Req, Res>(target: Ref<Req>, build: (replyTo: Ref<Res>) => Req, timeoutMs = DEFAULT_ASK_TIMEOUT): Promise<Res> {
    // Inside the executor: anything thrown (a bad target, a throwing build) is a rejection.
    return new Promise<Res>((resolve, reject) => {
      const systemName = (target as unknown as { system: { name: string } }).system.name;
      const system = systems.find(systemName);
      // As nact's query does: a stopped actor (or a stopped system) can never answer.
      if (!system || typeof system.addTempReference !== 'function' || !system.find(target)) {
        throw new Error('Actor stopped or never existed. Query can never resolve');
      }
      const id = nextId++;
      const ref: TempRef = { system: { name: systemName }, id, type: 'temp' };
      const request = build(ref as unknown as Ref<Res>);
      system.addTempReference(ref, {
        resolve: (value) => {
          if (!this.waiting.delete(id)) return;
          system.removeTempReference(ref);
          if (this.waiting.size === 0) this.stopSweeping();
          resolve(value as Res);
        },
      });
      this.waiting.set(id, { reject, deadline: Date.now() + timeoutMs, system, ref });
      if (!this.sweeper) {
        this.sweeper = setInterval(() => this.sweep(Date.now()), this.sweepMs);
        this.sweeper.unref();
      }
      nact.dispatch(target, request);
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
    if (this.waiting.size === 0) this.stopSweeping();
  }

  /** Rejects every request still waiting. */
  close(): void {
    this.sweep(Number.POSITIVE_INFINITY);
  }

  private stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
