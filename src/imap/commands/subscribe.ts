// SUBSCRIBE (RFC 3501 §6.3.6): marks a folder subscribed (LSUB, LIST (SUBSCRIBED)).
import type { ImapCommand } from '../../protocols/imap/types.js';
import { AUTHENTICATED, commandOf, failed, folderName, ok, type CommandSpec, type Completion, type ImapContext } from './command.js';

export const subscribe: CommandSpec = {
  name: 'SUBSCRIBE',
  states: AUTHENTICATED,
  handle: (ctx, command) => setSubscribed(ctx, command, true),
};

export async function setSubscribed(ctx: ImapContext, command: ImapCommand, subscribed: boolean): Promise<Completion> {
  const name = folderName(commandOf(command, 'SUBSCRIBE', 'UNSUBSCRIBE').mailbox);
  const reply = await ctx.mailbox().subscribe(name, subscribed);
  return reply.ok ? ok(`${subscribed ? 'SUBSCRIBE' : 'UNSUBSCRIBE'} completed`) : failed(reply);
}
