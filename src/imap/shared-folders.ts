// The shared namespace of IMAP ACL (RFC 4314, RFC 2342): folders other users of the
// same domain share with this session's user appear as `shared/OWNER@DOMAIN/Folder`,
// as in Dovecot. This port wraps the user's own mailbox: a name in the shared
// namespace goes to the owner's mailbox (wherever it lives: the registry forwards to its
// node), after checking the user's rights in the folder's ACL as it is now, so a revoked
// right takes effect at the next command. Flags are the owner's (shared \Seen): one set
// per message, kept by the owner's mailbox actor; a reader without `s` cannot change it.
import type { Logger } from '../core/logger.js';
import { failure } from '../core/supervision.js';
import { allFlagRights, entryRights, flagRights, has, permittedFlags, rightsOf, visibleAcl } from '../mailbox/acl.js';
import type { FolderInfo } from '../mailbox/imap-messages.js';
import type {
  AclReply, AppendManyReply, AppendReply, AppendRequest, CopyReply, CopyRequest, ExpungeReply, FolderReply, FoldersReply, ImapDoneReply,
  MessageByUidReply, MetadataReply, SelectReply, StoreReply, StoreRequest, UsageReply, UserMailbox, VanishedReply,
} from './backend.js';
import type { MessageReader } from './fetch-items.js';
import { copyAcross } from './copy-across.js';

export const SHARED_ROOT = 'shared';
export const SHARED_PREFIX = `${SHARED_ROOT}/`;

/** What the shared namespace needs from the directory and the registry. */
export interface SharingPort {
  /** Owners whose folders' ACLs name this user or `anyone` of the user's domain. */
  sharersFor(user: string): string[];
  /** The address now of the user an entry of `owner`'s ACL was given to (see DirectoryCache.granteeAddress). */
  granteeAddress(owner: string, identifier: string, mailboxId: string): string | undefined;
  /** This session's port to another user's mailbox of the same domain, or null (unknown user, other domain). */
  mailboxOf(owner: string): UserMailbox | null;
  /** Keeps the owner's mailbox loaded while the session has one of its folders selected; `release` once per `retain`. */
  retain(owner: string): void;
  release(owner: string): void;
}

/** `shared/OWNER/Folder` → owner and folder ('' for `shared/OWNER` itself); null outside the namespace. */
export function parseSharedName(name: string): { owner: string; folder: string } | null {
  if (!name.startsWith(SHARED_PREFIX)) return null;
  const rest = name.slice(SHARED_PREFIX.length);
  const at = rest.indexOf('@');
  if (at <= 0) return null;
  const slash = rest.indexOf('/', at);
  const owner = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
  const folder = slash < 0 ? '' : rest.slice(slash + 1);
  return { owner, folder: folder.toUpperCase() === 'INBOX' ? 'INBOX' : folder };
}

export function sharedName(owner: string, folder: string): string {
  return `${SHARED_PREFIX}${owner}/${folder}`;
}

/** A folder of another user, as this session reaches it. */
interface Target {
  owner: string;
  folder: string;
  mailbox: UserMailbox;
}

/** Reading a shared folder whose `r` right was revoked: the command ends in NO [NOPERM]. */
export class NoPermissionError extends Error {
  readonly imapCode = 'NOPERM';
}

const noSuchFolder = (name: string) => failure(`no folder named ${name}`, false, 'NONEXISTENT');
const noRight = (what: string) => failure(`no permission to ${what}`, false, 'NOPERM');

export class SharedFolders implements UserMailbox {
  readonly reader: MessageReader;
  /** The selected folder when it is another user's: unselect and bodies go to its mailbox. */
  private selectedShared: { target: Target; name: string } | null = null;
  /** This command's check that the user may still read the selected shared folder. */
  private readCheck: Promise<void> | null = null;

  constructor(
    private readonly own: UserMailbox,
    private readonly user: string,
    /** The user's mailbox id: entries given to an earlier user of the same address do not count. */
    private readonly mailboxId: string,
    private readonly sharing: SharingPort,
    private readonly log: Logger,
  ) {
    this.reader = {
      readAll: async (sha) => {
        await this.mayRead();
        return this.selectedMailbox().reader.readAll(sha);
      },
      structure: async (sha) => {
        await this.mayRead();
        return this.selectedMailbox().reader.structure(sha);
      },
      // The SORT/THREAD keys stored beside the bodies; a reader without them (a mailbox on
      // another node) answers none, and the keys are computed from structures.
      sortKeys: async (shas, uidValidity) => {
        await this.mayRead();
        const inner = this.selectedMailbox().reader;
        return inner.sortKeys === undefined ? shas.map(() => null) : inner.sortKeys(shas, uidValidity);
      },
    };
  }

  private leaveShared(): void {
    if (this.selectedShared !== null) this.sharing.release(this.selectedShared.target.owner);
    this.selectedShared = null;
  }

  private selectedMailbox(): UserMailbox {
    return this.selectedShared?.target.mailbox ?? this.own;
  }

  /** A new command: rights are checked again (a right revoked meanwhile applies from now on). */
  newCommand(): void {
    this.readCheck = null;
  }

  /** Message contents of a shared folder are read only while the user still holds `r` (checked once per command). */
  private mayRead(): Promise<void> {
    const selected = this.selectedShared;
    if (selected === null) return Promise.resolve();
    this.readCheck ??= this.allowed(selected.name, 'r', `read ${selected.name}`).then((checked) => {
      if (checked !== null && !checked.ok) throw new NoPermissionError(checked.error);
    });
    return this.readCheck;
  }

  // ------------------------------------------------------------ rights

  private target(name: string): Target | null {
    const parsed = parseSharedName(name);
    if (parsed === null || parsed.folder === '' || parsed.owner === this.user) return null;
    const mailbox = this.sharing.mailboxOf(parsed.owner);
    return mailbox === null ? null : { ...parsed, mailbox };
  }

  /** The folder's state and this user's rights on it as its ACL says now; unlisted folders do not exist. */
  private async rightsOn(target: Target, name: string): Promise<{ ok: true; folder: FolderInfo; rights: string } | ReturnType<typeof failure>> {
    const reply = await target.mailbox.folderStatus(target.folder);
    if (!reply.ok) return reply.code === 'NONEXISTENT' ? noSuchFolder(name) : reply;
    const rights = rightsOf(reply.folder.acl, target.owner, this.user, this.mailboxId);
    if (!has(rights, 'l') && !has(rights, 'r')) return noSuchFolder(name);
    return { ok: true, folder: reply.folder, rights };
  }

  /** Checks `wanted` on a shared name; null for a name of the user's own. */
  private async allowed(name: string, wanted: string, what: string): Promise<{ ok: true; target: Target; rights: string; folder: FolderInfo } | ReturnType<typeof failure> | null> {
    if (!name.startsWith(SHARED_PREFIX)) return null;
    const target = this.target(name);
    if (target === null) return noSuchFolder(name);
    const checked = await this.rightsOn(target, name);
    if (!checked.ok) return checked;
    if (!has(checked.rights, wanted)) return noRight(what);
    return { ok: true, target, rights: checked.rights, folder: checked.folder };
  }

  private shown(owner: string, folder: FolderInfo): FolderInfo {
    const { acl: _hidden, ...rest } = folder;
    return { ...rest, name: sharedName(owner, folder.name), subscribed: false };
  }

  // ------------------------------------------------------------ folders

  async folders(): Promise<FoldersReply> {
    const mine = await this.own.folders();
    if (!mine.ok) return mine;
    const shared: FolderInfo[] = [];
    for (const owner of this.sharing.sharersFor(this.user)) {
      if (owner === this.user) continue;
      const mailbox = this.sharing.mailboxOf(owner);
      if (mailbox === null) continue;
      const theirs = await mailbox.folders().catch((err: unknown) => failure(String(err)));
      if (!theirs.ok) {
        this.log.warn({ owner, error: theirs.error }, 'shared folders of a user not listed');
        continue;
      }
      for (const folder of theirs.folders) {
        const rights = rightsOf(folder.acl, owner, this.user, this.mailboxId);
        if (!has(rights, 'l')) continue;
        // Listed without `r`: its counters are not the user's to see (RFC 5819: no STATUS then).
        shared.push(has(rights, 'r') ? this.shown(owner, folder) : { ...this.shown(owner, folder), statusHidden: true });
      }
    }
    const subscribed = new Set(mine.subscriptions);
    for (const folder of shared) folder.subscribed = subscribed.has(folder.name);
    return { ok: true, folders: [...mine.folders, ...shared], subscriptions: mine.subscriptions };
  }

  async folderStatus(name: string): Promise<FolderReply> {
    const checked = await this.allowed(name, 'r', 'read this folder');
    if (checked === null) return this.own.folderStatus(name);
    if (!checked.ok) return checked;
    return { ok: true, folder: this.shown(checked.target.owner, checked.folder) };
  }

  async createFolder(name: string, specialUse: string | null): Promise<ImapDoneReply> {
    if (!name.startsWith(SHARED_PREFIX)) return this.own.createFolder(name, specialUse);
    const target = this.target(name);
    if (target === null) return noRight('create folders here');
    const slash = target.folder.lastIndexOf('/');
    if (slash < 0) return noRight(`create top-level folders of ${target.owner}`);
    const parentName = sharedName(target.owner, target.folder.slice(0, slash));
    const parent = await this.allowed(parentName, 'k', `create folders in ${parentName}`);
    if (parent === null || !parent.ok) return parent ?? noRight('create');
    const created = await target.mailbox.createFolder(target.folder, null);
    if (!created.ok) return created;
    // The new folder starts with its parent's ACL, so its creator (and the other readers) can reach it.
    for (const [identifier, rights] of Object.entries(parent.folder.acl ?? {})) {
      const set = await target.mailbox.setAcl(target.folder, identifier, entryRights(rights));
      if (!set.ok) this.log.warn({ owner: target.owner, folder: target.folder, error: set.error }, 'parent ACL not copied to a new folder');
    }
    return created;
  }

  async deleteFolder(name: string): Promise<ImapDoneReply> {
    const checked = await this.allowed(name, 'x', `delete ${name}`);
    if (checked === null) return this.own.deleteFolder(name);
    if (!checked.ok) return checked;
    return checked.target.mailbox.deleteFolder(checked.target.folder);
  }

  async renameFolder(from: string, to: string): Promise<ImapDoneReply> {
    const source = parseSharedName(from);
    const destination = parseSharedName(to);
    if (source === null && destination === null) return this.own.renameFolder(from, to);
    if (source === null || destination === null || source.owner !== destination.owner) {
      return failure('folders cannot move between users', false, 'CANNOT');
    }
    const checked = await this.allowed(from, 'x', `rename ${from}`);
    if (checked === null || !checked.ok) return checked ?? noRight('rename');
    const slash = destination.folder.lastIndexOf('/');
    if (slash < 0) return noRight(`create top-level folders of ${destination.owner}`);
    const parent = await this.allowed(sharedName(destination.owner, destination.folder.slice(0, slash)), 'k', `create folders there`);
    if (parent === null || !parent.ok) return parent ?? noRight('rename');
    return checked.target.mailbox.renameFolder(checked.target.folder, destination.folder);
  }

  subscribe(name: string, subscribed: boolean): Promise<ImapDoneReply> {
    // Subscriptions are the reader's own: a shared name is kept among the names subscribed without a folder.
    return this.own.subscribe(name, subscribed);
  }

  // ------------------------------------------------------------ selection

  async select(name: string, readOnly: boolean, takesRecent = true): Promise<SelectReply> {
    this.leaveShared();
    const checked = await this.allowed(name, 'r', `read ${name}`);
    if (checked === null) return this.own.select(name, readOnly, takesRecent);
    if (!checked.ok) return checked;
    // Without any right to change the folder it is selected read-only (RFC 4314 §4).
    const writable = [...'siwte'].some((right) => checked.rights.includes(right));
    const reply = await checked.target.mailbox.select(checked.target.folder, readOnly || !writable, takesRecent);
    if (!reply.ok) return reply;
    // Its mailbox actor holds the selection (the session's listener): it must not be stopped as idle.
    this.sharing.retain(checked.target.owner);
    this.selectedShared = { target: checked.target, name };
    this.readCheck = Promise.resolve();
    const flags = flagRights(checked.rights);
    return { ...reply, ...(readOnly || writable ? {} : { readOnly: true }), ...(allFlagRights(flags) ? {} : { flagRights: flags }) };
  }

  async unselect(): Promise<ImapDoneReply> {
    const from = this.selectedMailbox();
    this.leaveShared();
    return from.unselect();
  }

  expungeSeen(blobs: string[]): Promise<ImapDoneReply> {
    return this.selectedMailbox().expungeSeen(blobs);
  }

  // ------------------------------------------------------------ messages

  async store(request: StoreRequest): Promise<StoreReply> {
    const checked = await this.allowed(request.name, 'r', `read ${request.name}`);
    if (checked === null) return this.own.store(request);
    if (!checked.ok) return checked;
    // Flags the user has no right to change stay as they are (s: \Seen, t: \Deleted, w: the others).
    const rights = flagRights(checked.rights);
    const restricted = allFlagRights(rights) ? {} : { allowed: rights };
    return checked.target.mailbox.store({ ...request, name: checked.target.folder, ...restricted });
  }

  async expunge(name: string, uids?: number[]): Promise<ExpungeReply> {
    const checked = await this.allowed(name, 'e', `expunge ${name}`);
    if (checked === null) return this.own.expunge(name, uids);
    if (!checked.ok) return checked;
    return checked.target.mailbox.expunge(checked.target.folder, uids);
  }

  async copy(request: CopyRequest): Promise<CopyReply> {
    const from = parseSharedName(request.from);
    const to = parseSharedName(request.to);
    if (from === null && to === null) return this.own.copy(request);
    const source = await this.allowed(request.from, request.move ? 'rte' : 'r', `${request.move ? 'move messages out of' : 'read'} ${request.from}`);
    if (source !== null && !source.ok) return source;
    const destination = await this.allowed(request.to, 'i', `insert messages into ${request.to}`);
    if (destination !== null && !destination.ok) return destination.code === 'NONEXISTENT' ? failure(destination.error, false, 'TRYCREATE') : destination;
    const sourceSide = source === null ? { mailbox: this.own, folder: request.from } : { mailbox: source.target.mailbox, folder: source.target.folder };
    const destinationSide = destination === null ? { mailbox: this.own, folder: request.to } : { mailbox: destination.target.mailbox, folder: destination.target.folder };
    if ((from?.owner ?? this.user) === (to?.owner ?? this.user)) {
      return sourceSide.mailbox.copy({ ...request, from: sourceSide.folder, to: destinationSide.folder });
    }
    // Another user's mailbox (maybe on another node): each message is read and appended there.
    const keep = destination === null ? null : flagRights(destination.rights);
    return copyAcross(sourceSide, destinationSide, request, keep);
  }

  async vanished(name: string, sinceModseq: number): Promise<VanishedReply> {
    const checked = await this.allowed(name, 'r', `read ${name}`);
    if (checked === null) return this.own.vanished(name, sinceModseq);
    if (!checked.ok) return checked;
    return checked.target.mailbox.vanished(checked.target.folder, sinceModseq);
  }

  usage(): Promise<UsageReply> {
    return this.own.usage();
  }

  watch(on: boolean): Promise<ImapDoneReply> {
    return this.own.watch(on);
  }

  async metadata(name: string): Promise<MetadataReply> {
    if (name.startsWith(SHARED_PREFIX)) return failure('METADATA of shared folders is not supported', false, 'CANNOT');
    return this.own.metadata(name);
  }

  async setMetadata(name: string, entries: Array<[string, string | null]>, maxEntries: number): Promise<ImapDoneReply> {
    if (name.startsWith(SHARED_PREFIX)) return failure('METADATA of shared folders is not supported', false, 'CANNOT');
    return this.own.setMetadata(name, entries, maxEntries);
  }

  async messageByUid(name: string, uid: number): Promise<MessageByUidReply> {
    const checked = await this.allowed(name, 'r', `read ${name}`);
    if (checked === null) return this.own.messageByUid(name, uid);
    if (!checked.ok) return checked;
    return checked.target.mailbox.messageByUid(checked.target.folder, uid);
  }

  async append(request: AppendRequest): Promise<AppendReply> {
    const checked = await this.allowed(request.name, 'i', `insert messages into ${request.name}`);
    if (checked === null) return this.own.append(request);
    if (!checked.ok) return checked.code === 'NONEXISTENT' ? failure(checked.error, false, 'TRYCREATE') : checked;
    const flags = permittedFlags(request.flags, flagRights(checked.rights));
    return checked.target.mailbox.append({ ...request, name: checked.target.folder, flags });
  }

  async appendMany(name: string, messages: Omit<AppendRequest, 'name' | 'viewUidNext'>[], viewUidNext?: number): Promise<AppendManyReply> {
    const checked = await this.allowed(name, 'i', `insert messages into ${name}`);
    if (checked === null) return this.own.appendMany(name, messages, viewUidNext);
    if (!checked.ok) return checked.code === 'NONEXISTENT' ? failure(checked.error, false, 'TRYCREATE') : checked;
    const allowed = flagRights(checked.rights);
    const filtered = messages.map((m) => ({ ...m, flags: permittedFlags(m.flags, allowed) }));
    return checked.target.mailbox.appendMany(checked.target.folder, filtered, viewUidNext);
  }

  quota(): number {
    return this.own.quota();
  }

  // ------------------------------------------------------------ ACL

  async acl(name: string): Promise<AclReply> {
    if (!name.startsWith(SHARED_PREFIX)) return this.own.acl(name);
    const target = this.target(name);
    if (target === null) return noSuchFolder(name);
    const checked = await this.rightsOn(target, name);
    if (!checked.ok) return checked;
    return { ok: true, owner: target.owner, rights: checked.rights, acl: has(checked.rights, 'a') ? visibleAcl(checked.folder.acl, (identifier, mailboxId) => this.sharing.granteeAddress(target.owner, identifier, mailboxId)) : {} };
  }

  async setAcl(name: string, identifier: string, rights: string | null): Promise<ImapDoneReply> {
    const checked = await this.allowed(name, 'a', `change the ACL of ${name}`);
    if (checked === null) return this.own.setAcl(name, identifier, rights);
    if (!checked.ok) return checked;
    return checked.target.mailbox.setAcl(checked.target.folder, identifier, rights);
  }
}
