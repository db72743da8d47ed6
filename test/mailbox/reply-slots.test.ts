// ReplySlots: requests to actors answered through a registered reply reference, with
// no timer per request. Each of many concurrent requests gets its own answer (unique
// ids, where nact's query draws 32 random bits), a request nobody answers is rejected
// by the sweep after its deadline, one to a stopped actor at once, and close()
// rejects whatever still waits. The actors are real nact actors.
import { afterAll, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { dispatch, spawn, start, stop } from '../../src/core/supervision.js';
import { ReplySlots } from '../../src/mailbox/reply-slots.js';

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
