// APPEND (RFC 3501 §6.3.11, UIDPLUS APPENDUID) and MULTIAPPEND (RFC 3502): the literals go
// to the backend, which stores them and files them in the folder (quota checked there:
// OVERQUOTA; missing folder: TRYCREATE; another node's mailbox gets the messages' bytes
// through the cluster layer). Several messages are filed in one batch, or none.
// A binary literal (`~{n}`, RFC 3516) holding NUL bytes is stored with those parts in
// base64, so BODY[] stays a valid literal and BINARY[] gives the bytes back.
import { encodeBinaryParts } from '../../mime/binary-to-base64.js';
import { analyzeBody } from '../../mime/off-thread.js';
import { defaultMimeLimits } from '../../mime/types.js';
import { dateTimeToDate } from '../../protocols/imap/dates.js';
import type { AppendMessage } from '../../protocols/imap/types.js';
import { catenate } from '../catenate.js';
import { showOwnAdditions, viewEnd } from './own-additions.js';
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec, type Completion, type ImapContext } from './command.js';

export const append: CommandSpec = {
  name: 'APPEND',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'APPEND');
    const all = [cmd, ...(cmd.more ?? [])];
    const name = folderName(cmd.mailbox);
    const catenating = all.some((m) => m.catenate !== undefined);
    // CATENATE: a missing destination is TRYCREATE before any URL is looked at (RFC 4469 §5).
    if (catenating) {
      const destination = await ctx.mailbox().folderStatus(name);
      if (!destination.ok) return failed(destination.code === 'NONEXISTENT' ? { ...destination, code: 'TRYCREATE' } : destination);
    }
    const messages = all.map(asRequest);
    for (const [i, message] of all.entries()) {
      if (message.catenate === undefined) continue;
      const built = await catenate(ctx.mailbox(), message.catenate, ctx.deps.limits.maxAppendSize);
      if (!built.ok) return 'badUrl' in built ? no('Bad URL', { code: 'BADURL', url: built.badUrl }) : no('Message too big', { code: 'TOOBIG' });
      messages[i]!.message = built.message;
    }
    if (messages.some((m) => m.message.length === 0)) return no('Empty message');
    for (const [i, message] of all.entries()) {
      if (!message.binary || !message.message.includes(0)) continue;
      const storable = await storableBinary(message.message);
      if (storable === null) return no('Binary message too complex to store');
      messages[i]!.message = storable;
    }
    const selected = ctx.selected?.name === name ? ctx.selected : null;
    const viewUidNext = selected !== null ? viewEnd(selected) : undefined;
    if (messages.length > 1) return appendMany(ctx, name, messages, viewUidNext);
    const reply = await ctx.mailbox().append({ name, ...messages[0]!, ...(viewUidNext !== undefined ? { viewUidNext } : {}) });
    if (!reply.ok) return failed(reply);
    if (selected !== null && ctx.selected === selected) await showOwnAdditions(ctx, reply.messages, reply.recent ? [reply.uid] : []);
    return ok('APPEND completed', { code: 'APPENDUID', uidValidity: reply.uidValidity, uids: [reply.uid] });
  },
};

function asRequest(message: AppendMessage): { message: Buffer; flags: string[]; internalDate: number } {
  const flags = message.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
  const internalDate = message.internalDate ? dateTimeToDate(message.internalDate).getTime() : Date.now();
  return { message: message.message, flags, internalDate };
}

/** The message with its NUL-holding parts in base64; null when its structure was too big to walk. */
async function storableBinary(raw: Buffer): Promise<Buffer | null> {
  const structure = await analyzeBody(raw, defaultMimeLimits);
  return structure.limited === undefined ? encodeBinaryParts(raw, structure) : null;
}

async function appendMany(
  ctx: ImapContext, name: string, messages: ReturnType<typeof asRequest>[], viewUidNext: number | undefined,
): Promise<Completion> {
  const selected = ctx.selected;
  const reply = await ctx.mailbox().appendMany(name, messages, viewUidNext);
  if (!reply.ok) return failed(reply);
  if (viewUidNext !== undefined && ctx.selected === selected) await showOwnAdditions(ctx, reply.messages, reply.recentUids);
  return ok('APPEND completed', { code: 'APPENDUID', uidValidity: reply.uidValidity, uids: reply.uids });
}
