// IDLE (RFC 2177): `+ idling`, then folder events go out as they arrive until DONE.
import { AUTHENTICATED, bad, ok, type CommandSpec } from './command.js';

export const idle: CommandSpec = {
  name: 'IDLE',
  states: AUTHENTICATED,
  async handle(ctx) {
    await ctx.send({ type: 'continuation', text: 'idling' });
    ctx.beginIdle();
    if (ctx.selected !== null) await ctx.flushEvents(true);
    return {
      awaitLine: async (line) => {
        ctx.endIdle();
        return line.trim().toUpperCase() === 'DONE' ? ok('IDLE terminated') : bad('Expected DONE');
      },
    };
  },
};
