// The IMAP backend over this server's services: logins through the auth guard and the
// directory, each session's `UserMailbox` as requests to the user's mailbox actor through
// the registry (which forwards to the owning node in a cluster), bodies from the blob
// store. It is the only IMAP file that knows those services and the mailbox actor's
// message protocol; APPEND's upload (the body stored under a temporary reference the
// mailbox actor then takes over, or released when it never answers) lives here rather
// than in the command.
import { randomUUID } from 'node:crypto';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Directory } from '../directory/directory.js';
import type { UserRecord } from '../directory/records.js';
import { checkLogin } from '../directory/guarded-login.js';
import { afterLogin } from '../directory/login-hook.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { NodeUnavailableError, type MailboxRegistry } from '../mailbox/registry.js';
import type { MailboxImapRequest } from '../mailbox/imap-messages.js';
import type { AuthGate } from '../net/auth-guard.js';
import { failure } from '../core/supervision.js';
import type { AppendItem } from '../mailbox/imap-messages.js';
import type {
  AclReply, AppendManyReply, AppendReply, AppendRequest, MessageByUidReply, MetadataReply, CopyReply, CopyRequest, ExpungeReply, FolderReply, FoldersReply, ImapBackend, ImapDoneReply,
  ImapLoginResult, SelectReply, SessionBinding, StoreReply, StoreRequest, UsageReply, UserMailbox, VanishedReply,
} from './backend.js';
import type { MessageReader } from './fetch-items.js';
import { SharedFolders, type SharingPort } from './shared-folders.js';
import { aclEntry, ALL_RIGHTS, ANYONE, visibleAcl } from '../mailbox/acl.js';
import type { AclSetReply } from '../mailbox/imap-messages.js';
import { anyoneOf, domainOf, isValidAddress, normalizeAddress, shareKey } from '../directory/records.js';

export interface MailboxBackendServices {
  directory: Directory;
  mailboxes: MailboxRegistry;
  blobs: BlobStore;
  auth: AuthGate;
  log: Logger;
  /** Plugin hooks (auth, after a successful login). */
  hooks?: PipelineHooks;
}

export class MailboxBackend implements ImapBackend {
  constructor(private readonly services: MailboxBackendServices) {}

  async login(remoteAddress: string, username: string, password: string): Promise<ImapLoginResult> {
    const { auth, directory, hooks, mailboxes } = this.services;
    const checked = checkLogin(auth, directory, remoteAddress, username, password);
    const verdict = await (hooks?.on.auth ? afterLogin(hooks, 'imap', remoteAddress, checked) : checked);
    return verdict.kind === 'ok' && (await mailboxes.ownerUnavailable(verdict.user.mailboxId)) ? { kind: 'unavailable' } : verdict;
  }

  retain(user: UserRecord): void {
    this.services.mailboxes.pin(user.mailboxId);
  }

  release(user: UserRecord): void {
    this.services.mailboxes.unpin(user.mailboxId);
  }

  mailboxFor(binding: SessionBinding): UserMailbox {
    const { directory } = this.services;
    const own = new SessionMailbox(this.services, binding);
    const domain = domainOf(binding.user.address);
    const sharing: SharingPort = {
      sharersFor: (user) => [...new Set([...directory.cache.sharersOf(user), ...directory.cache.sharersOf(anyoneOf(domain))])],
      granteeAddress: (owner, identifier, mailboxId) => directory.cache.granteeAddress(owner, identifier, mailboxId),
      mailboxOf: (owner) => {
        const record = directory.cache.user(owner);
        // Sharing stays inside a domain.
        return record && domainOf(record.address) === domain ? new SessionMailbox(this.services, { ...binding, user: record }) : null;
      },
      retain: (owner) => {
        const record = directory.cache.user(owner);
        if (record) this.services.mailboxes.pin(record.mailboxId);
      },
      release: (owner) => {
        const record = directory.cache.user(owner);
        if (record) this.services.mailboxes.unpin(record.mailboxId);
      },
    };
    return new SharedFolders(own, binding.user.address, binding.user.mailboxId, sharing, this.services.log);
  }
}

/** One session's requests to its user's mailbox actor. */
class SessionMailbox implements UserMailbox {
  readonly reader: MessageReader;

  constructor(private readonly services: MailboxBackendServices, private readonly binding: SessionBinding) {
    const { mailboxId } = binding.user;
    const { mailboxes } = services;
    this.reader = {
      readAll: (sha) => mailboxes.readAll(mailboxId, sha),
      cachedBody: (sha) => mailboxes.cachedBody(mailboxId, sha),
      structure: (sha) => mailboxes.structure(mailboxId, sha),
      sortKeys: (shas, uidValidity) => mailboxes.sortKeys(mailboxId, shas, uidValidity),
    };
  }

  folders(): Promise<FoldersReply> {
    return this.ask((replyTo) => ({ type: 'folders', replyTo }));
  }

  folderStatus(name: string): Promise<FolderReply> {
    return this.ask((replyTo) => ({ type: 'folder-status', name, replyTo }));
  }

  createFolder(name: string, specialUse: string | null): Promise<ImapDoneReply> {
    return this.ask((replyTo) => ({ type: 'folder-create', name, specialUse, replyTo }));
  }

  deleteFolder(name: string): Promise<ImapDoneReply> {
    return this.ask((replyTo) => ({ type: 'folder-delete', name, replyTo }));
  }

  renameFolder(from: string, to: string): Promise<ImapDoneReply> {
    return this.ask((replyTo) => ({ type: 'folder-rename', from, to, replyTo }));
  }

  subscribe(name: string, subscribed: boolean): Promise<ImapDoneReply> {
    return this.ask((replyTo) => ({ type: 'folder-subscribe', name, subscribed, replyTo }));
  }

  select(name: string, readOnly: boolean, takesRecent = true): Promise<SelectReply> {
    const { session, listener } = this.binding;
    return this.ask((replyTo) => ({ type: 'select', name, session, readOnly, takesRecent, listener, replyTo }));
  }

  unselect(): Promise<ImapDoneReply> {
    const { session } = this.binding;
    return this.ask((replyTo) => ({ type: 'unselect', session, replyTo }));
  }

  expungeSeen(blobs: string[]): Promise<ImapDoneReply> {
    const { session } = this.binding;
    return this.ask((replyTo) => ({ type: 'expunge-seen', session, blobs, replyTo }));
  }

  store(request: StoreRequest): Promise<StoreReply> {
    const { session } = this.binding;
    return this.ask((replyTo) => ({ type: 'store', ...request, session, replyTo }));
  }

  expunge(name: string, uids?: number[]): Promise<ExpungeReply> {
    const { session } = this.binding;
    return this.ask((replyTo) => ({ type: 'expunge', name, session, ...(uids !== undefined ? { uids } : {}), replyTo }));
  }

  copy(request: CopyRequest): Promise<CopyReply> {
    const { session } = this.binding;
    return this.ask((replyTo) => ({ type: 'copy', ...request, session, quota: this.quota(), replyTo }));
  }

  vanished(name: string, sinceModseq: number): Promise<VanishedReply> {
    return this.ask((replyTo) => ({ type: 'vanished', name, sinceModseq, replyTo }));
  }

  usage(): Promise<UsageReply> {
    return this.ask((replyTo) => ({ type: 'usage', replyTo }));
  }

  watch(on: boolean): Promise<ImapDoneReply> {
    const { session, listener } = this.binding;
    return this.ask((replyTo) => ({ type: 'watch', session, listener, watch: on, replyTo }));
  }

  metadata(name: string): Promise<MetadataReply> {
    return this.ask((replyTo) => ({ type: 'metadata-get', name, replyTo }));
  }

  setMetadata(name: string, entries: Array<[string, string | null]>, maxEntries: number): Promise<ImapDoneReply> {
    return this.ask((replyTo) => ({ type: 'metadata-set', name, entries, maxEntries, replyTo }));
  }

  messageByUid(name: string, uid: number): Promise<MessageByUidReply> {
    return this.ask((replyTo) => ({ type: 'message-by-uid', name, uid, replyTo }));
  }

  quota(): number {
    const { user } = this.binding;
    return this.services.directory.cache.user(user.address)?.quota ?? user.quota;
  }

  async acl(name: string): Promise<AclReply> {
    const reply = await this.folderStatus(name);
    if (!reply.ok) return reply;
    const owner = this.binding.user.address;
    const { cache } = this.services.directory;
    return { ok: true, owner, rights: ALL_RIGHTS, acl: visibleAcl(reply.folder.acl, (identifier, mailboxId) => cache.granteeAddress(owner, identifier, mailboxId)) };
  }

  /**
   * Changes one entry of the folder's ACL, then the directory's index of who shares with
   * whom. Identifiers: `anyone` or an existing user of the owner's domain other than the owner.
   */
  async setAcl(name: string, rawIdentifier: string, rights: string | null): Promise<ImapDoneReply> {
    const { directory, log } = this.services;
    const owner = this.binding.user.address;
    const identifier = normalizeAddress(rawIdentifier);
    if (identifier !== ANYONE) {
      if (identifier === owner) return failure('the owner always holds every right on their own folders', false, 'CANNOT');
      if (!isValidAddress(identifier) || domainOf(identifier) !== domainOf(owner)) {
        return failure(`only users of ${domainOf(owner)} or "anyone" can be given rights`, false, 'CANNOT');
      }
    }
    const grantee = identifier === ANYONE ? undefined : directory.cache.user(identifier);
    if (identifier !== ANYONE && grantee === undefined) return failure(`no user ${identifier}`, false, 'CANNOT');
    const value = rights === null ? null : aclEntry(rights, grantee?.mailboxId);
    const reply = await this.ask<AclSetReply>((replyTo) => ({ type: 'acl-set', name, identifier, rights: value, replyTo }));
    if (!reply.ok) return reply;
    const indexed = identifier === ANYONE ? anyoneOf(domainOf(owner)) : identifier;
    if (directory.cache.shares.has(shareKey(indexed, owner)) !== reply.stillNamed) {
      // The ACL is stored; a lost index update only hides the folder from the grantee's LIST until the next SETACL.
      const written = await directory.request<null>((replyTo) => ({ type: 'set-share', grantee: indexed, owner, shared: reply.stillNamed, replyTo }))
        .catch((err: unknown) => failure(String(err)));
      if (!written.ok) log.error({ owner, grantee: indexed, error: written.error }, 'shared-folder index not updated');
    }
    return { ok: true };
  }

  async append(request: AppendRequest): Promise<AppendReply> {
    if (await this.services.mailboxes.remoteOwner(this.binding.user.mailboxId) === null) return this.appendHere(request);
    const { name, message, flags, internalDate, viewUidNext } = request;
    const holder = `imap-append:${this.binding.session}:${randomUUID()}`;
    const sha = await this.services.blobs.storeBody(message, holder);
    try {
      // A refused append releases the upload's temporary reference itself (mailbox actor).
      return await this.ask<AppendReply>((replyTo) => ({
        type: 'append', name, blob: sha, size: message.length, flags, internalDate, uploadHolder: holder,
        quota: this.quota(), session: this.binding.session, ...(viewUidNext !== undefined ? { viewUidNext } : {}), replyTo,
      }));
    } catch (err) {
      await this.dropUpload(sha, holder);
      throw err;
    }
  }

  /**
   * APPEND to a mailbox of this node: the body's ops go to the mailbox actor, which commits
   * them in the message's own batch (one synced write instead of the upload's and the
   * message's); the body's lock is held meanwhile, so it cannot be collected in between.
   */
  private async appendHere(request: AppendRequest): Promise<AppendReply> {
    const { name, message, flags, internalDate, viewUidNext } = request;
    const { blobs, log } = this.services;
    const prepared = await blobs.prepareBody(message);
    let refused = false;
    try {
      const reply = await this.ask<AppendReply>((replyTo) => ({
        type: 'append', name, blob: prepared.sha, size: message.length, flags, internalDate, blobOps: prepared.ops,
        quota: this.quota(), session: this.binding.session, ...(viewUidNext !== undefined ? { viewUidNext } : {}), replyTo,
      }));
      refused = !reply.ok;
      return reply;
    } finally {
      // Chunks a large upload spilled go when the actor refused it; after a timeout they stay:
      // the actor may still commit the record that names them.
      if (refused && prepared.discardOps.length > 0) await blobs.db.write(prepared.discardOps).catch((err: unknown) => log.error({ err }, 'could not discard a refused APPEND upload'));
      prepared.release();
    }
  }

  async appendMany(name: string, messages: Omit<AppendRequest, 'name' | 'viewUidNext'>[], viewUidNext?: number): Promise<AppendManyReply> {
    const { session } = this.binding;
    // For a mailbox on another node the bodies travel with the request (cluster/remote-mailboxes.ts).
    const items: AppendItem[] = [];
    try {
      for (const { message, flags, internalDate } of messages) {
        const holder = `imap-append:${session}:${randomUUID()}`;
        items.push({ blob: await this.services.blobs.storeBody(message, holder), size: message.length, flags, internalDate, uploadHolder: holder });
      }
      // The mailbox actor releases every upload's temporary reference, whether it files them or not.
      return await this.ask<AppendManyReply>((replyTo) => ({
        type: 'append-many', name, items, quota: this.quota(), session, ...(viewUidNext !== undefined ? { viewUidNext } : {}), replyTo,
      }));
    } catch (err) {
      for (const item of items) await this.dropUpload(item.blob, item.uploadHolder);
      throw err;
    }
  }

  /** One request of the mailbox actor's IMAP protocol, wherever the mailbox lives. */
  private ask<R>(build: (replyTo: Ref<R>) => MailboxImapRequest): Promise<R> {
    const { user, timeoutMs } = this.binding;
    // The mailbox's node is down: the same temporary failure its actor would answer (NO [UNAVAILABLE]).
    return this.services.mailboxes.ask<R>(user.mailboxId, build, timeoutMs).catch((err: unknown) => {
      if (err instanceof NodeUnavailableError) return failure(err.message, true) as R;
      throw err;
    });
  }

  /** Releases the temporary reference of an upload the mailbox never answered for. */
  private async dropUpload(sha: string, holder: string): Promise<void> {
    const { blobs, log } = this.services;
    try {
      await blobs.db.commit([blobs.unrefOp(sha, holder)]);
      await blobs.collect(sha);
    } catch (err) {
      log.error({ err, blob: sha }, 'could not release an unused APPEND upload');
    }
  }
}
