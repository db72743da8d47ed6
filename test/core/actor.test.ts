// Actors defined with defineActor, run in a real nact system: a crash answers the
// waiting caller at once, resets or resumes as declared, and an actor that keeps
// crashing is stopped after `intensity` restarts within `period`, with a log line saying so.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../support/log-capture.js';
import { defineActor, spawnActor, type ActorRestart } from '../../src/core/actor.js';
import { ask, dispatch, start, stop, type Failure, type Ref } from '../../src/core/supervision.js';

type Msg = { type: 'add'; n: number; replyTo: Ref<number | Failure> } | { type: 'crash'; replyTo: Ref<number | Failure> };


function counter(restart: ActorRestart) {
  return defineActor<Msg, number>({
    what: 'counter',
    initialState: () => 0,
    restart,
    handle: (state, msg) => {
      if (msg.type === 'crash') throw new Error('asked to crash');
      dispatch(msg.replyTo, state + msg.n);
      return state + msg.n;
    },
  });
}

const add = (ref: Ref<Msg>, n: number) => ask<Msg, number | Failure>(ref, (replyTo) => ({ type: 'add', n, replyTo }), 1000);
const crash = (ref: Ref<Msg>) => ask<Msg, number | Failure>(ref, (replyTo) => ({ type: 'crash', replyTo }), 1000);

let system: ReturnType<typeof start> | null = null;
afterEach(() => {
  if (system) stop(system);
  system = null;
});

describe('spawnActor', () => {
  it('answers the crashed request with a failure and resets the state when the policy says reset', async () => {
    system = start();
    const { log } = capturingLogger();
    const ref = spawnActor(system, counter({ strategy: 'reset', intensity: 5, period: 10 }), 'counter', log);
    expect(await add(ref, 2)).toBe(2);
    expect(await crash(ref)).toMatchObject({ ok: false, error: 'internal error in counter', temporary: true });
    expect(await add(ref, 3)).toBe(3);
  });

  it('keeps the state when the policy says resume', async () => {
    system = start();
    const { log } = capturingLogger();
    const ref = spawnActor(system, counter({ strategy: 'resume', intensity: 5, period: 10 }), 'counter', log);
    expect(await add(ref, 2)).toBe(2);
    await crash(ref);
    expect(await add(ref, 3)).toBe(5);
  });

  it('restarts up to intensity times within the period, then stops the actor and logs it', async () => {
    system = start();
    const { log, lines } = capturingLogger();
    const ref = spawnActor(system, counter({ strategy: 'reset', intensity: 3, period: 60 }), 'counter', log);
    for (let i = 0; i < 3; i++) {
      expect(await crash(ref)).toMatchObject({ ok: false });
      expect(await add(ref, 1)).toBe(1);
    }
    expect(lines.filter((l) => l.msg === 'actor crashed; restarting it')).toHaveLength(3);

    expect(await crash(ref)).toMatchObject({ ok: false });
    expect(lines.at(-1)).toMatchObject({ msg: 'actor crashed more than 3 times in 60 s; stopping it', what: 'counter', intensity: 3, period: 60 });
    await expect(add(ref, 1)).rejects.toThrow();
  });

  it('hands the stopped ref to the owner once, when the limit is passed', async () => {
    system = start();
    const { log } = capturingLogger();
    const stopped: Ref<Msg>[] = [];
    const definition = { ...counter({ strategy: 'reset', intensity: 1, period: 60 }), onGiveUp: (self: Ref<Msg>) => stopped.push(self) };
    const ref = spawnActor(system, definition, 'counter', log);
    expect(await crash(ref)).toMatchObject({ ok: false });
    expect(stopped).toHaveLength(0);
    expect(await crash(ref)).toMatchObject({ ok: false });
    expect(stopped).toEqual([ref]);
  });

  it('escalates to the process: a singleton past its limit makes the process exit 70', () => {
    const script = `
      import { defineActor, spawnActor } from ${JSON.stringify(path.resolve('build/src/core/actor.js'))};
      import { escalate } from ${JSON.stringify(path.resolve('build/src/core/process-policy.js'))};
      import { start, dispatch } from ${JSON.stringify(path.resolve('build/src/core/supervision.js'))};
      import { silentLogger } from ${JSON.stringify(path.resolve('build/src/core/logger.js'))};
      const log = silentLogger();
      const ref = spawnActor(start(), defineActor({ what: 'queue', restart: { strategy: 'resume', intensity: 1, period: 60 },
        onGiveUp: escalate(log, 'queue'), handle: () => { throw new Error('boom'); } }), 'queue', log);
      dispatch(ref, {}); dispatch(ref, {});
      setTimeout(() => process.exit(0), 5000);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(70);
  });

  it('allows intensity crashes again once earlier ones are older than the period', async () => {
    system = start();
    const { log, lines } = capturingLogger();
    const ref = spawnActor(system, counter({ strategy: 'resume', intensity: 1, period: 0.2 }), 'counter', log);
    await crash(ref);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await crash(ref);
    expect(await add(ref, 1)).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(['actor crashed; resuming it', 'actor crashed; resuming it']);
  });

  it('stops at the first crash when the policy says stop', async () => {
    system = start();
    const { log, lines } = capturingLogger();
    const ref = spawnActor(system, counter({ strategy: 'stop' }), 'counter', log);
    expect(await crash(ref)).toMatchObject({ ok: false });
    expect(lines.at(-1)).toMatchObject({ msg: 'actor crashed; stopping it' });
    await expect(add(ref, 1)).rejects.toThrow();
  });
});
