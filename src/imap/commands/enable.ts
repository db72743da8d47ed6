// ENABLE (RFC 5161): CONDSTORE, QRESYNC (which implies CONDSTORE, RFC 7162 §3.2.3),
// UTF8=ACCEPT (RFC 6855: mailbox names in UTF-8 both ways from the next command on) and
// IMAP4rev2 (RFC 9051 §6.3.1: rev2 answers from now on; its mailbox names are UTF-8 too).
import { AUTHENTICATED, commandOf, ok, type CommandSpec } from './command.js';

/** Upper-cased as parsed, with the spelling the ENABLED response and `ctx.enabled` use. */
const ENABLEABLE = new Map(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4rev2'].map((name) => [name.toUpperCase(), name]));

export const enable: CommandSpec = {
  name: 'ENABLE',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { capabilities } = commandOf(command, 'ENABLE');
    const newlyEnabled: string[] = [];
    for (const asked of capabilities) {
      const capability = ENABLEABLE.get(asked);
      if (capability === undefined || ctx.enabled.has(capability)) continue;
      ctx.enabled.add(capability);
      newlyEnabled.push(capability);
      if (capability === 'UTF8=ACCEPT' || capability === 'IMAP4rev2') ctx.enableUtf8();
      // RFC 9051 has no \Recent: a folder selected before the switch stops showing it.
      if (capability === 'IMAP4rev2') ctx.selected?.recent.clear();
    }
    if (ctx.enabled.has('QRESYNC')) ctx.enabled.add('CONDSTORE');
    await ctx.send({ type: 'enabled', capabilities: newlyEnabled });
    return ok('ENABLE completed');
  },
};
