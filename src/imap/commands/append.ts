// APPEND (RFC 3501 §6.3.11, UIDPLUS APPENDUID): the literal is stored in this node's
// blob store under a temporary reference, then the mailbox actor's `append` takes it
// over (quota checked there: OVERQUOTA; missing folder: TRYCREATE; another node's
// mailbox gets the bytes through the cluster layer).
import { randomUUID } from 'node:crypto';
import { dateTimeToDate } from '../../protocols/imap/dates.js';
import type { AppendReply } from '../../mailbox/imap-messages.js';
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec, type ImapContext } from './command.js';

export const append: CommandSpec = {
  name: 'APPEND',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'APPEND');
    if (cmd.message.length === 0) return no('Empty message');
    const name = folderName(cmd.mailbox);
    const flags = cmd.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
    const internalDate = cmd.internalDate ? dateTimeToDate(cmd.internalDate).getTime() : Date.now();
    const { sha, holder } = await upload(ctx, cmd.message);
    let reply: AppendReply;
    try {
      reply = await ctx.ask<AppendReply>((replyTo) => ({
        type: 'append', name, blob: sha, size: cmd.message.length, flags, internalDate, uploadHolder: holder,
        quota: currentQuota(ctx), replyTo,
      }));
    } catch (err) {
      await dropUpload(ctx, sha, holder);
      throw err;
    }
    // A refused append already released the upload's temporary reference (mailbox actor).
    if (!reply.ok) return failed(reply);
    return ok('APPEND completed', { code: 'APPENDUID', uidValidity: reply.uidValidity, uids: [reply.uid] });
  },
};

/** The user's quota as the directory has it now (an admin may have changed it since login). */
export function currentQuota(ctx: ImapContext): number {
  const user = ctx.user!;
  return ctx.deps.directory.cache.user(user.address)?.quota ?? user.quota;
}

async function upload(ctx: ImapContext, message: Buffer): Promise<{ sha: string; holder: string }> {
  const holder = `imap-append:${ctx.id}:${randomUUID()}`;
  const sha = await ctx.deps.blobs.storeBody(message, holder);
  return { sha, holder };
}

/** Releases the temporary reference of an upload the mailbox never answered for. */
async function dropUpload(ctx: ImapContext, sha: string, holder: string): Promise<void> {
  const { blobs, log } = ctx.deps;
  try {
    await blobs.db.commit([blobs.unrefOp(sha, holder)]);
    await blobs.collect(sha);
  } catch (err) {
    log.error({ err, blob: sha }, 'could not release an unused APPEND upload');
  }
}
