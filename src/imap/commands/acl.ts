// IMAP ACL commands (RFC 4314 §3): SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS.
// The rights model is src/mailbox/acl.ts; who may do what on a shared folder is checked
// by the session's mailbox port (shared-folders.ts). Identifiers are `anyone` or a full
// address of the owner's domain; negative rights (`-user`) are not supported (NO).
import { ALL_RIGHTS, modifiedRights, parseRights, reportedRights } from '../../mailbox/acl.js';
import { AUTHENTICATED, bad, commandOf, failed, folderName, no, ok, type CommandSpec, type Completion, type ImapContext } from './command.js';

export const setacl: CommandSpec = {
  name: 'SETACL',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox, identifier, modifier, rights } = commandOf(command, 'SETACL');
    const parsed = parseRights(rights);
    if (!parsed.ok) return bad(`SETACL: ${parsed.error}`);
    if (identifier.startsWith('-')) return no('Negative rights are not supported', { code: 'CANNOT' });
    const name = folderName(mailbox);
    let wanted = parsed.rights;
    if (modifier !== '') {
      const current = await ctx.mailbox().acl(name);
      if (!current.ok) return failed(current);
      wanted = modifiedRights(current.acl[identifier.toLowerCase()] ?? '', modifier, parsed.rights);
    }
    const reply = await ctx.mailbox().setAcl(name, identifier, wanted === '' ? null : wanted);
    return reply.ok ? ok('SETACL completed') : failed(reply);
  },
};

export const deleteacl: CommandSpec = {
  name: 'DELETEACL',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox, identifier } = commandOf(command, 'DELETEACL');
    if (identifier!.startsWith('-')) return no('Negative rights are not supported', { code: 'CANNOT' });
    const reply = await ctx.mailbox().setAcl(folderName(mailbox), identifier!, null);
    return reply.ok ? ok('DELETEACL completed') : failed(reply);
  },
};

/** The folder's ACL when the user holds `a` on it (the administer right guards reading it too). */
async function administered(ctx: ImapContext, mailbox: string) {
  const reply = await ctx.mailbox().acl(folderName(mailbox));
  if (!reply.ok) return failed(reply);
  if (!reply.rights.includes('a')) return no('You may not administer this folder', { code: 'NOPERM' });
  return reply;
}

function isCompletion(value: unknown): value is Completion {
  return typeof value === 'object' && value !== null && 'status' in value;
}

export const getacl: CommandSpec = {
  name: 'GETACL',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox } = commandOf(command, 'GETACL');
    const reply = await administered(ctx, mailbox);
    if (isCompletion(reply)) return reply;
    // The owner's implicit rights come first, as Cyrus and Dovecot show them.
    const entries: Array<[string, string]> = [[reply.owner, reportedRights(ALL_RIGHTS)]];
    for (const [identifier, rights] of Object.entries(reply.acl).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      entries.push([identifier, reportedRights(rights)]);
    }
    await ctx.send({ type: 'acl', mailbox, entries });
    return ok('GETACL completed');
  },
};

export const listrights: CommandSpec = {
  name: 'LISTRIGHTS',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox, identifier } = commandOf(command, 'LISTRIGHTS');
    const reply = await administered(ctx, mailbox);
    if (isCompletion(reply)) return reply;
    if (identifier!.toLowerCase() === reply.owner) {
      await ctx.send({ type: 'listrights', mailbox, identifier: identifier!, required: reportedRights(ALL_RIGHTS), optional: [] });
    } else {
      // Every right can be granted on its own (RIGHTS=texk); c and d are the obsolete groups.
      await ctx.send({ type: 'listrights', mailbox, identifier: identifier!, required: '', optional: [...ALL_RIGHTS, 'c', 'd'] });
    }
    return ok('LISTRIGHTS completed');
  },
};

export const myrights: CommandSpec = {
  name: 'MYRIGHTS',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox } = commandOf(command, 'MYRIGHTS');
    const reply = await ctx.mailbox().acl(folderName(mailbox));
    if (!reply.ok) return failed(reply);
    await ctx.send({ type: 'myrights', mailbox, rights: reportedRights(reply.rights) });
    return ok('MYRIGHTS completed');
  },
};
