// What `ternmail user show`, `mailbox export|import`, `search`, `expunge` and
// `backup` need from a running node: a user's folders and messages read through
// their mailbox actor (the sole writer, so reads see committed state), appends
// through the same path as IMAP APPEND, and a snapshot of the whole store. One
// process only: in a cluster the admin API lives on the primary, which holds no
// mailbox: it sends each operation to a worker (RemoteMailboxAdmin), whose registry
// reaches every mailbox of the cluster.
import { randomUUID } from 'node:crypto';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { Directory } from '../directory/directory.js';
import type { UserRecord } from '../directory/records.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { MailboxRequest } from '../mailbox/messages.js';
import type { AppendReply, FolderEventMessage, FolderInfo, FoldersReply, ImapDoneReply, MailboxImapRequest, MessageView, SelectReply, ExpungeReply, StoreReply, UsageReply } from '../mailbox/imap-messages.js';
import type { BlobStore } from '../store/blob-store.js';
import type { EnvelopeAddress } from '../mime/types.js';
import { defineActor, LONG_LIVED, spawnActor } from '../core/actor.js';
import { MailboxBackend } from '../imap/mailbox-backend.js';
import type { AuthGate } from '../net/auth-guard.js';

const TIMEOUT_MS = 60_000;

export interface MailboxAdminDeps {
  directory: Directory;
  mailboxes: MailboxRegistry;
  blobs: BlobStore;
  auth: AuthGate;
  /** Where the actor that receives (and ignores) folder events of admin selects lives. */
  parent: Ref<unknown>;
  log: Logger;
}

export class AdminError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Criteria of `ternmail search` / `expunge`: every one given must match. */
export interface MessageQuery {
  /** Part of the From address (case-insensitive). */
  from?: string;
  /** Part of the Subject (case-insensitive). */
  subject?: string;
  /** Received on or after (ms since the epoch). */
  since?: number;
  /** Received before (ms since the epoch). */
  before?: number;
}

export interface Match {
  user: string;
  folder: string;
  uid: number;
  from: string;
  subject: string;
  date: number;
  size: number;
}

function addressText(list: EnvelopeAddress[] | null): string {
  return (list ?? []).filter((a) => a.mailbox !== null).map((a) => `${a.mailbox}@${a.domain ?? ''}`).join(', ');
}

export class MailboxAdmin implements MailboxAdminPort {
  private readonly backend: MailboxBackend;
  private readonly events: Ref<FolderEventMessage>;

  constructor(private readonly deps: MailboxAdminDeps) {
    this.backend = new MailboxBackend(deps);
    this.events = spawnActor(deps.parent, defineActor<FolderEventMessage>({ what: 'admin folder listener', handle: async () => undefined, restart: { strategy: 'resume', ...LONG_LIVED } }), 'admin-folder-events', deps.log);
  }

  user(address: string): UserRecord {
    const user = this.deps.directory.cache.user(address);
    if (!user) throw new AdminError(404, `unknown user: ${address}`);
    return user;
  }

  private request<R>(user: UserRecord, build: (replyTo: Ref<R>) => MailboxImapRequest): Promise<R> {
    return this.deps.mailboxes.ask<R>(user.mailboxId, build as unknown as (replyTo: Ref<R>) => MailboxRequest, TIMEOUT_MS);
  }

  async folders(address: string): Promise<FolderInfo[]> {
    const reply = await this.request<FoldersReply>(this.user(address), (replyTo) => ({ type: 'folders', replyTo }));
    if (!reply.ok) throw new AdminError(500, reply.error);
    return reply.folders;
  }

  async usage(address: string): Promise<{ messages: number; bytes: number }> {
    const reply = await this.request<UsageReply>(this.user(address), (replyTo) => ({ type: 'usage', replyTo }));
    if (!reply.ok) throw new AdminError(500, reply.error);
    return { messages: reply.messages, bytes: reply.bytes };
  }

  /** The messages of a folder in UID order (a read-only select, released at once). */
  async messages(address: string, folder: string): Promise<MessageView[]> {
    const user = this.user(address);
    const session = `admin-${randomUUID()}`;
    const reply = await this.request<SelectReply>(user, (replyTo) => ({ type: 'select', name: folder, session, readOnly: true, listener: this.events, replyTo }));
    if (!reply.ok) throw new AdminError(404, `${address} ${folder}: ${reply.error}`);
    await this.request<ImapDoneReply>(user, (replyTo) => ({ type: 'unselect', session, replyTo }));
    return reply.messages;
  }

  body(address: string, blob: string): Promise<Buffer> {
    return this.deps.mailboxes.readAll(this.user(address).mailboxId, blob);
  }

  /** Appends a message (creating the folder first if needed), with its flags and date, as IMAP APPEND does. */
  async append(address: string, folder: string, message: Buffer, flags: string[], internalDate: number): Promise<number> {
    const user = this.user(address);
    const existing = await this.folders(address);
    if (!existing.some((f) => f.name === folder)) {
      const created = await this.request<ImapDoneReply>(user, (replyTo) => ({ type: 'folder-create', name: folder, specialUse: null, replyTo }));
      if (!created.ok) throw new AdminError(400, `${folder}: ${created.error}`);
    }
    const mailbox = this.backend.mailboxFor({ user, session: `admin-import-${randomUUID()}`, listener: this.events, timeoutMs: TIMEOUT_MS });
    const reply: AppendReply = await mailbox.append({ name: folder, message, flags, internalDate });
    if (!reply.ok) throw new AdminError(reply.temporary ? 503 : 400, `${address} ${folder}: ${reply.error}`);
    return reply.uid;
  }

  /** Every message of every user matching the query. */
  async search(query: MessageQuery): Promise<Match[]> {
    const matches: Match[] = [];
    for (const user of [...this.deps.directory.cache.users.values()].sort((a, b) => a.address.localeCompare(b.address))) {
      for (const folder of await this.folders(user.address)) {
        for (const message of await this.messages(user.address, folder.name)) {
          const match = await this.matching(user, folder.name, message, query);
          if (match) matches.push(match);
        }
      }
    }
    return matches;
  }

  private async matching(user: UserRecord, folder: string, message: MessageView, query: MessageQuery): Promise<Match | null> {
    if (query.since !== undefined && message.internalDate < query.since) return null;
    if (query.before !== undefined && message.internalDate >= query.before) return null;
    const { envelope } = await this.deps.mailboxes.structure(user.mailboxId, message.blob);
    const from = addressText(envelope.from);
    const subject = envelope.subject ?? '';
    if (query.from && !from.toLowerCase().includes(query.from.toLowerCase())) return null;
    if (query.subject && !subject.toLowerCase().includes(query.subject.toLowerCase())) return null;
    return { user: user.address, folder, uid: message.uid, from, subject, date: message.internalDate, size: message.size };
  }

  /** Removes the matching messages: \Deleted, then EXPUNGE of exactly those UIDs, folder by folder. */
  async expunge(query: MessageQuery): Promise<Match[]> {
    const matches = await this.search(query);
    const byFolder = new Map<string, Match[]>();
    for (const m of matches) byFolder.set(`${m.user}\n${m.folder}`, [...(byFolder.get(`${m.user}\n${m.folder}`) ?? []), m]);
    for (const [key, list] of byFolder) {
      const [address, folder] = key.split('\n');
      const user = this.user(address);
      const uids = list.map((m) => m.uid);
      const session = `admin-expunge-${randomUUID()}`;
      const flagged = await this.request<StoreReply>(user, (replyTo) => ({ type: 'store', name: folder, session, uids, operation: 'add', flags: ['\\Deleted'], replyTo }));
      if (!flagged.ok) throw new AdminError(500, `${address} ${folder}: ${flagged.error}`);
      const expunged = await this.request<ExpungeReply>(user, (replyTo) => ({ type: 'expunge', name: folder, session, uids, replyTo }));
      if (!expunged.ok) throw new AdminError(500, `${address} ${folder}: ${expunged.error}`);
      this.deps.log.info({ user: address, folder, uids: expunged.expunged }, 'messages expunged by the operator');
    }
    return matches;
  }
}

/** What the admin routes use: this process's MailboxAdmin, or a worker's seen from a cluster's primary. */
export interface MailboxAdminPort {
  folders(address: string): Promise<FolderInfo[]>;
  usage(address: string): Promise<{ messages: number; bytes: number }>;
  messages(address: string, folder: string): Promise<MessageView[]>;
  body(address: string, blob: string): Promise<Buffer>;
  append(address: string, folder: string, message: Buffer, flags: string[], internalDate: number): Promise<number>;
  search(query: MessageQuery): Promise<Match[]>;
  expunge(query: MessageQuery): Promise<Match[]>;
}

export type MailboxAdminOp = keyof MailboxAdminPort;

/** A MailboxAdmin operation as it crosses to a worker; an AdminError comes back as data, its status kept. */
export type MailboxAdminAnswer = { ok: true; value: unknown } | { ok: false; status: number; error: string };

const OPS: MailboxAdminOp[] = ['folders', 'usage', 'messages', 'body', 'append', 'search', 'expunge'];

/** Runs an operation the primary sent (the worker side). */
export async function runMailboxAdminOp(admin: MailboxAdmin, op: string, args: unknown[]): Promise<MailboxAdminAnswer> {
  if (!OPS.includes(op as MailboxAdminOp)) return { ok: false, status: 400, error: `unknown mailbox operation: ${op}` };
  if (op === 'append') args[2] = Buffer.from(args[2] as Uint8Array);
  try {
    const value = await (admin[op as MailboxAdminOp] as (...a: unknown[]) => Promise<unknown>).apply(admin, args);
    return { ok: true, value };
  } catch (err) {
    if (err instanceof AdminError) return { ok: false, status: err.status, error: err.message };
    throw err;
  }
}

/** The primary's MailboxAdmin: each operation runs on a worker, whose registry reaches every mailbox. */
export class RemoteMailboxAdmin implements MailboxAdminPort {
  constructor(private readonly send: (op: MailboxAdminOp, args: unknown[]) => Promise<MailboxAdminAnswer>) {}

  private async call<T>(op: MailboxAdminOp, args: unknown[]): Promise<T> {
    const answer = await this.send(op, args);
    if (!answer.ok) throw new AdminError(answer.status, answer.error);
    return answer.value as T;
  }

  folders(address: string) { return this.call<FolderInfo[]>('folders', [address]); }
  usage(address: string) { return this.call<{ messages: number; bytes: number }>('usage', [address]); }
  messages(address: string, folder: string) { return this.call<MessageView[]>('messages', [address, folder]); }
  async body(address: string, blob: string) { return Buffer.from(await this.call<Uint8Array>('body', [address, blob])); }
  append(address: string, folder: string, message: Buffer, flags: string[], internalDate: number) {
    return this.call<number>('append', [address, folder, message, flags, internalDate]);
  }
  search(query: MessageQuery) { return this.call<Match[]>('search', [query]); }
  expunge(query: MessageQuery) { return this.call<Match[]>('expunge', [query]); }
}
