// LIST (RFC 3501 §6.3.8) with LIST-EXTENDED selection and return options (RFC 5258),
// CHILDREN attributes (RFC 3348), SPECIAL-USE (RFC 6154) and LIST-STATUS (RFC 5819).
import type { ListCommand } from '../../protocols/imap/types.js';
import type { FolderInfo } from '../../mailbox/imap-messages.js';
import { compilePattern, matchesPattern } from '../../protocols/imap/list-pattern.js';
import { statusItems } from './status.js';
import { AUTHENTICATED, commandOf, failed, ok, type CommandSpec, type ImapContext } from './command.js';

export const list: CommandSpec = {
  name: 'LIST',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'LIST');
    if (cmd.patterns.length === 1 && cmd.patterns[0] === '' && !cmd.extended) {
      await ctx.send({ type: 'list', attributes: ['\\Noselect'], delimiter: '/', mailbox: '' });
      return ok('LIST completed');
    }
    const reply = await ctx.mailbox().folders();
    if (!reply.ok) return failed(reply);
    for (const entry of listEntries(reply.folders, cmd)) await sendEntry(ctx, cmd, entry);
    return ok('LIST completed');
  },
};

interface ListEntry {
  name: string;
  attributes: string[];
  childInfo?: string[];
  folder: FolderInfo | null;
}

/** Folder tree facts: which names exist and which have children. */
export class FolderTree {
  readonly byName = new Map<string, FolderInfo>();
  readonly parents = new Set<string>();

  constructor(folders: FolderInfo[]) {
    for (const folder of folders) {
      this.byName.set(folder.name, folder);
      const levels = folder.name.split('/');
      for (let i = 1; i < levels.length; i++) this.parents.add(levels.slice(0, i).join('/'));
    }
  }

  /** Existing folders and the parents implied by them, sorted with INBOX first. */
  allNames(): string[] {
    const names = new Set([...this.byName.keys(), ...this.parents]);
    return [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  }

  hasSubscribedDescendant(name: string): boolean {
    for (const folder of this.byName.values()) if (folder.subscribed && folder.name.startsWith(`${name}/`)) return true;
    return false;
  }
}

/** `%` and `*` wildcards (see list-pattern.ts); INBOX matches case-insensitively. */
export function patternMatcher(reference: string, pattern: string): (name: string) => boolean {
  const full = reference !== '' && !reference.endsWith('/') && pattern !== '' ? `${reference}/${pattern}` : `${reference}${pattern}`;
  const exact = compilePattern(full);
  const inbox = compilePattern(full.toUpperCase());
  return (name) => matchesPattern(exact, name) || (name === 'INBOX' && matchesPattern(inbox, name));
}

function listEntries(folders: FolderInfo[], cmd: ListCommand): ListEntry[] {
  const tree = new FolderTree(folders);
  const matchers = cmd.patterns.map((pattern) => patternMatcher(cmd.reference, pattern));
  const subscribedOnly = cmd.selection.includes('SUBSCRIBED');
  const specialUseOnly = cmd.selection.includes('SPECIAL-USE');
  const recursive = cmd.selection.includes('RECURSIVEMATCH');
  const entries: ListEntry[] = [];
  for (const name of tree.allNames()) {
    if (!matchers.some((matches) => matches(name))) continue;
    const folder = tree.byName.get(name) ?? null;
    const entry: ListEntry = { name, attributes: attributesOf(name, folder, tree, cmd), folder };
    if (specialUseOnly && folder?.specialUse == null) continue;
    if (subscribedOnly && !folder?.subscribed) {
      if (!recursive || !tree.hasSubscribedDescendant(name)) continue;
      entry.childInfo = ['SUBSCRIBED'];
    }
    entries.push(entry);
  }
  return entries;
}

function attributesOf(name: string, folder: FolderInfo | null, tree: FolderTree, cmd: ListCommand): string[] {
  const attributes: string[] = [];
  if (folder === null) attributes.push(cmd.extended ? '\\NonExistent' : '\\Noselect');
  attributes.push(tree.parents.has(name) ? '\\HasChildren' : '\\HasNoChildren');
  const wantsSubscribed = cmd.returnOptions.subscribed || cmd.selection.includes('SUBSCRIBED');
  if (wantsSubscribed && folder?.subscribed) attributes.push('\\Subscribed');
  if (folder?.specialUse) attributes.push(folder.specialUse);
  return attributes;
}

async function sendEntry(ctx: ImapContext, cmd: ListCommand, entry: ListEntry): Promise<void> {
  await ctx.send({
    type: 'list', attributes: entry.attributes, delimiter: '/', mailbox: entry.name,
    ...(entry.childInfo ? { childInfo: entry.childInfo } : {}),
  });
  const wanted = cmd.returnOptions.status;
  if (wanted !== undefined && wanted.length > 0 && entry.folder !== null) {
    await ctx.send({ type: 'status', mailbox: entry.name, items: statusItems(entry.folder, wanted) });
  }
}
