// ReplySlots: requests to actors answered through a registered reply reference, with
// no timer per request. Each of many concurrent requests gets its own answer (unique
// ids, where nact's query draws 32 random bits), a request nobody answers is rejected
// by the sweep after its deadline, one to a stopped actor at once, and close()
// rejects whatever still waits. The actors are real nact actors. And the reason it
// exists: with nact's query, two requests that draw the same random reply id get
// crossed answers (forced here by pinning Math.random); `ask` is immune.
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import nact from 'nact';
import type { Ref } from 'nact';
import { ask, dispatch, spawn, start, stop } from '../../src/core/supervision.js';
import { ReplySlots } from '../../src/core/reply-slots.js';

type Echo = { n: number; replyTo: Ref<{ n: number }> };
const system = start();
afterAll(() => stop(system));

it('gives each request its own answer, and rejects the unanswered ones', async () => {
  const slots = new ReplySlots(20);
  const echo = spawn(system, async (state: unknown, msg: Echo) => {
    if (msg.n % 7 === 0) await new Promise((r) => setImmediate(r));
    dispatch(msg.replyTo, { n: msg.n });
    return state;
  }, 'echo') as Ref<Echo>;
  const answers = await Promise.all(Array.from({ length: 5000 }, (_, n) => slots.ask<Echo, { n: number }>(echo, (replyTo) => ({ n, replyTo }))));
  expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 5000 }, (_, n) => n));
  expect(slots.pending).toBe(0);

  const silent = spawn(system, (state: unknown) => state, 'silent') as Ref<Echo>;
  const started = Date.now();
  await expect(slots.ask<Echo, { n: number }>(silent, (replyTo) => ({ n: 1, replyTo }), 50)).rejects.toThrow('Query Timeout');
  expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  expect(slots.pending).toBe(0);

  stop(echo);
  await new Promise((r) => setTimeout(r, 20));
  await expect(slots.ask<Echo, { n: number }>(echo, (replyTo) => ({ n: 2, replyTo }))).rejects.toThrow('Actor stopped');

  const waiting = slots.ask<Echo, { n: number }>(silent, (replyTo) => ({ n: 3, replyTo }));
  slots.close();
  await expect(waiting).rejects.toThrow('Query Timeout');
});

/** An actor that answers each request with its own n, the first one only after the second has arrived. */
function slowFirst(name: string): Ref<Echo> {
  let held: Echo | null = null;
  return spawn(system, (state: unknown, msg: Echo) => {
    if (held === null && msg.n === 1) { held = msg; return state; }
    dispatch(msg.replyTo, { n: msg.n });
    if (held) { dispatch(held.replyTo, { n: held.n }); held = null; }
    return state;
  }, name) as Ref<Echo>;
}

afterEach(() => { vi.restoreAllMocks(); });

it("crosses answers on nact's query when two reply ids collide, and never with ask", async () => {
  // Two requests in flight that draw the same 32-bit id, forced by pinning Math.random.
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
  const old = slowFirst('slow-old');
  const first = nact.query(old, (replyTo: Ref<{ n: number }>) => ({ n: 1, replyTo }), 300) as Promise<{ n: number }>;
  const second = nact.query(old, (replyTo: Ref<{ n: number }>) => ({ n: 2, replyTo }), 300) as Promise<{ n: number }>;
  const settled = await Promise.allSettled([first, second]);
  // The second caller receives an answer that is not its own, or the first never gets one.
  const crossed = settled.some((r, i) => r.status === 'rejected' || (r.value as { n: number }).n !== i + 1);
  expect(crossed).toBe(true);

  const fresh = slowFirst('slow-new');
  const answers = await Promise.all([1, 2].map((n) => ask<Echo, { n: number }>(fresh, (replyTo) => ({ n, replyTo }), 300)));
  expect(answers).toEqual([{ n: 1 }, { n: 2 }]);
});

it('gives unique ids across instances: the process-wide ask and a registry of its own share the actor table', async () => {
  const [one, other] = [new ReplySlots(), new ReplySlots()];
  const both = slowFirst('slow-both');
  // The first request is held until the second arrives, so both are registered at once.
  const answers = await Promise.all([
    one.ask<Echo, { n: number }>(both, (replyTo) => ({ n: 1, replyTo }), 500),
    other.ask<Echo, { n: number }>(both, (replyTo) => ({ n: 2, replyTo }), 500),
  ]);
  expect(answers).toEqual([{ n: 1 }, { n: 2 }]);
  one.close();
  other.close();
});

it('rejects an ask to a stopped actor and one whose request cannot be built', async () => {
  const gone = spawn(system, (state: unknown) => state, 'gone') as Ref<Echo>;
  stop(gone);
  await new Promise((r) => setTimeout(r, 20));
  await expect(ask<Echo, { n: number }>(gone, (replyTo) => ({ n: 1, replyTo }))).rejects.toThrow('Actor stopped');
  const live = slowFirst('live');
  await expect(ask<Echo, { n: number }>(live, () => { throw new Error('cannot build'); })).rejects.toThrow('cannot build');
});
