// ENABLE (RFC 5161): CONDSTORE, QRESYNC (which implies CONDSTORE, RFC 7162 §3.2.3) and
// UTF8=ACCEPT (RFC 6855: mailbox names in UTF-8 both ways from the next command on).
import { AUTHENTICATED, commandOf, ok, type CommandSpec } from './command.js';

const ENABLEABLE = new Set(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT']);

export const enable: CommandSpec = {
  name: 'ENABLE',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { capabilities } = commandOf(command, 'ENABLE');
    const newlyEnabled: string[] = [];
    for (const capability of capabilities) {
      if (!ENABLEABLE.has(capability) || ctx.enabled.has(capability)) continue;
      ctx.enabled.add(capability);
      newlyEnabled.push(capability);
      if (capability === 'UTF8=ACCEPT') ctx.enableUtf8();
    }
    if (ctx.enabled.has('QRESYNC')) ctx.enabled.add('CONDSTORE');
    await ctx.send({ type: 'enabled', capabilities: newlyEnabled });
    return ok('ENABLE completed');
  },
};
