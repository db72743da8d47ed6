// GETQUOTAROOT (RFC 9208 §4.3.2): every folder lives under the one root "" whose
// STORAGE limit is the user's directory quota; usage comes from the mailbox actor.
import { AUTHENTICATED, commandOf, failed, ok, type CommandSpec, type Completion, type ImapContext } from './command.js';

export const getquotaroot: CommandSpec = {
  name: 'GETQUOTAROOT',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox } = commandOf(command, 'GETQUOTAROOT');
    await ctx.send({ type: 'quotaroot', mailbox, roots: [''] });
    return sendQuota(ctx, 'GETQUOTAROOT');
  },
};

/** `* QUOTA "" (STORAGE used limit)` in units of 1024 octets; `()` when the user has no limit. */
export async function sendQuota(ctx: ImapContext, verb: string): Promise<Completion> {
  const usage = await ctx.mailbox().usage();
  if (!usage.ok) return failed(usage);
  const quota = ctx.mailbox().quota();
  const resources = quota > 0 ? [{ name: 'STORAGE', usage: Math.ceil(usage.bytes / 1024), limit: Math.floor(quota / 1024) }] : [];
  await ctx.send({ type: 'quota', root: '', resources });
  return ok(`${verb} completed`);
}
