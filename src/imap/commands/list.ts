// LIST (RFC 3501 §6.3.8) with LIST-EXTENDED selection and return options (RFC 5258),
// CHILDREN attributes (RFC 3348), SPECIAL-USE (RFC 6154) and LIST-STATUS (RFC 5819).
import type { ImapResponse, ListCommand } from '../../protocols/imap/types.js';
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
    const tree = new FolderTree(reply.folders, reply.subscriptions);
    for (const entry of listEntries(tree, cmd)) await sendEntry(ctx, cmd, entry);
    return ok('LIST completed');
  },
};

interface ListEntry {
  name: string;
  attributes: string[];
  childInfo?: string[];
  folder: FolderInfo | null;
}

/**
 * Folder tree facts: which names exist, which have children, which are subscribed.
 * Subscriptions are by name, so a subscribed name may have no folder (deleted since).
 */
export class FolderTree {
  readonly byName = new Map<string, FolderInfo>();
  readonly parents = new Set<string>();
  readonly subscribed = new Set<string>();

  constructor(folders: FolderInfo[], subscriptions: string[] = []) {
    for (const folder of folders) {
      this.byName.set(folder.name, folder);
      if (folder.subscribed) this.subscribed.add(folder.name);
      for (const ancestor of ancestorsOf(folder.name)) this.parents.add(ancestor);
    }
    for (const name of subscriptions) this.subscribed.add(name);
  }

  /** Existing folders and the parents implied by them, sorted with INBOX first. */
  allNames(): string[] {
    return sortedNames(new Set([...this.byName.keys(), ...this.parents]));
  }

  /** allNames, the subscribed names without a folder and their parents. */
  namesWithSubscriptions(): string[] {
    const names = new Set([...this.byName.keys(), ...this.parents]);
    for (const name of this.subscribed) {
      names.add(name);
      for (const ancestor of ancestorsOf(name)) names.add(ancestor);
    }
    return sortedNames(names);
  }

  subscribedDescendants(name: string): string[] {
    return [...this.subscribed].filter((other) => other.startsWith(`${name}/`));
  }
}

function ancestorsOf(name: string): string[] {
  const levels = name.split('/');
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join('/'));
  return out;
}

function sortedNames(names: Set<string>): string[] {
  return [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** `%` and `*` wildcards (see list-pattern.ts); INBOX matches case-insensitively. */
export function patternMatcher(reference: string, pattern: string): (name: string) => boolean {
  const full = reference !== '' && !reference.endsWith('/') && pattern !== '' ? `${reference}/${pattern}` : `${reference}${pattern}`;
  const exact = compilePattern(full);
  const inbox = compilePattern(full.toUpperCase());
  return (name) => matchesPattern(exact, name) || (name === 'INBOX' && matchesPattern(inbox, name));
}

function listEntries(tree: FolderTree, cmd: ListCommand): ListEntry[] {
  const matchers = cmd.patterns.map((pattern) => patternMatcher(cmd.reference, pattern));
  const matchesAny = (name: string) => matchers.some((matches) => matches(name));
  const subscribedOnly = cmd.selection.includes('SUBSCRIBED');
  const specialUseOnly = cmd.selection.includes('SPECIAL-USE');
  const recursive = cmd.selection.includes('RECURSIVEMATCH');
  const entries: ListEntry[] = [];
  for (const name of subscribedOnly ? tree.namesWithSubscriptions() : tree.allNames()) {
    if (!matchesAny(name)) continue;
    const folder = tree.byName.get(name) ?? null;
    const entry: ListEntry = { name, attributes: attributesOf(name, folder, tree, cmd), folder };
    if (specialUseOnly && folder?.specialUse == null) continue;
    if (subscribedOnly && !tree.subscribed.has(name)) {
      // RFC 5258 §3.5: CHILDINFO for a parent whose subscribed descendant is not listed itself.
      if (!recursive || tree.subscribedDescendants(name).every(matchesAny)) continue;
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
  if (wantsSubscribed && tree.subscribed.has(name)) attributes.push('\\Subscribed');
  if (folder?.specialUse) attributes.push(folder.specialUse);
  return attributes;
}

/**
 * The plain `* LIST` of one folder (IMAP4rev2 sends it in SELECT, RFC 9051 §6.3.2, and after
 * a CREATE or RENAME whose name the server changed, with OLDNAME); null when it is gone.
 */
export async function folderListResponse(ctx: ImapContext, name: string, oldName?: string): Promise<ImapResponse | null> {
  const reply = await ctx.mailbox().folders();
  if (!reply.ok) return null;
  const tree = new FolderTree(reply.folders, reply.subscriptions);
  const folder = tree.byName.get(name) ?? null;
  if (folder === null) return null;
  const attributes = attributesOf(name, folder, tree, PLAIN_LIST);
  return { type: 'list', attributes, delimiter: '/', mailbox: name, ...(oldName !== undefined ? { oldName } : {}) };
}

/** IMAP4rev2: after CREATE or RENAME, a `* LIST` with OLDNAME when the folder's name is not the one the client sent. */
export async function announceRespelled(ctx: ImapContext, name: string, sent: string): Promise<void> {
  const asSent = sent.endsWith('/') ? sent.slice(0, -1) : sent;
  if (!ctx.rev2 || asSent === name) return;
  const listed = await folderListResponse(ctx, name, asSent);
  if (listed !== null) await ctx.send(listed);
}

const PLAIN_LIST: ListCommand = {
  tag: '', name: 'LIST', reference: '', patterns: [], selection: [],
  returnOptions: { subscribed: false, children: false, specialUse: false }, extended: false,
};

async function sendEntry(ctx: ImapContext, cmd: ListCommand, entry: ListEntry): Promise<void> {
  await ctx.send({
    type: 'list', attributes: entry.attributes, delimiter: '/', mailbox: entry.name,
    ...(entry.childInfo ? { childInfo: entry.childInfo } : {}),
  });
  const wanted = cmd.returnOptions.status;
  if (wanted !== undefined && wanted.length > 0 && entry.folder !== null && entry.folder.statusHidden !== true) {
    await ctx.send({ type: 'status', mailbox: entry.name, items: statusItems(entry.folder, wanted, ctx.deps.limits.maxAppendSize) });
  }
}
