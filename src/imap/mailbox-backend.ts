// The IMAP backend over this server's services: logins through the auth guard and the
// directory, requests to the user's mailbox actor through the registry (which forwards
// to the owning node in a cluster), bodies from the blob store. It is the only IMAP file
// that knows those services; APPEND's upload (the body stored under a temporary
// reference the mailbox actor then takes over, or released when it never answers)
// lives here rather than in the command.
import { randomUUID } from 'node:crypto';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Directory } from '../directory/directory.js';
import type { UserRecord } from '../directory/records.js';
import { checkLogin } from '../directory/guarded-login.js';
import { NodeUnavailableError, type MailboxRegistry } from '../mailbox/registry.js';
import { failure } from '../core/supervision.js';
import type { MailboxRequest } from '../mailbox/messages.js';
import type { AppendReply, MailboxImapRequest } from '../mailbox/imap-messages.js';
import type { AuthGate } from '../net/auth-guard.js';
import type { AppendRequest, ImapBackend, ImapLoginResult } from './backend.js';
import type { MessageReader } from './fetch-items.js';

export interface MailboxBackendServices {
  directory: Directory;
  mailboxes: MailboxRegistry;
  blobs: BlobStore;
  auth: AuthGate;
  log: Logger;
}

export class MailboxBackend implements ImapBackend {
  constructor(private readonly services: MailboxBackendServices) {}

  async login(remoteAddress: string, username: string, password: string): Promise<ImapLoginResult> {
    const { auth, directory, mailboxes } = this.services;
    const verdict = await checkLogin(auth, directory, remoteAddress, username, password);
    return verdict.kind === 'ok' && (await mailboxes.ownerUnavailable(verdict.user.mailboxId)) ? { kind: 'unavailable' } : verdict;
  }

  retain(user: UserRecord): void {
    this.services.mailboxes.pin(user.mailboxId);
  }

  release(user: UserRecord): void {
    this.services.mailboxes.unpin(user.mailboxId);
  }

  request<R>(user: UserRecord, build: (replyTo: Ref<R>) => MailboxImapRequest, timeoutMs: number): Promise<R> {
    // The IMAP requests are a part of the mailbox actor's protocol.
    const asRequest = build as unknown as (replyTo: Ref<R>) => MailboxRequest;
    // The mailbox's node is down: the same temporary failure its actor would answer (NO [UNAVAILABLE]).
    return this.services.mailboxes.ask<R>(user.mailboxId, asRequest, timeoutMs).catch((err: unknown) => {
      if (err instanceof NodeUnavailableError) return failure(err.message, true) as R;
      throw err;
    });
  }

  reader(user: UserRecord): MessageReader {
    const { mailboxId } = user;
    const { mailboxes } = this.services;
    return {
      readAll: (sha) => mailboxes.readAll(mailboxId, sha),
      structure: (sha) => mailboxes.structure(mailboxId, sha),
    };
  }

  quota(user: UserRecord): number {
    return this.services.directory.cache.user(user.address)?.quota ?? user.quota;
  }

  async append(user: UserRecord, request: AppendRequest, timeoutMs: number): Promise<AppendReply> {
    const { name, message, flags, internalDate } = request;
    const holder = `imap-append:${request.session}:${randomUUID()}`;
    const sha = await this.services.blobs.storeBody(message, holder);
    try {
      // A refused append releases the upload's temporary reference itself (mailbox actor).
      return await this.request<AppendReply>(user, (replyTo) => ({
        type: 'append', name, blob: sha, size: message.length, flags, internalDate, uploadHolder: holder,
        quota: this.quota(user), replyTo,
      }), timeoutMs);
    } catch (err) {
      await this.dropUpload(sha, holder);
      throw err;
    }
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
