// NAMESPACE (RFC 2342): one personal namespace, prefix "" and separator "/".
import { AUTHENTICATED, ok, type CommandSpec } from './command.js';

export const namespace: CommandSpec = {
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  async handle(ctx) {
    await ctx.send({ type: 'namespace', personal: [{ prefix: '', delimiter: '/' }], otherUsers: null, shared: null });
    return ok('NAMESPACE completed');
  },
};
