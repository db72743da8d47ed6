// Mailboxes held by other nodes: sends their requests over the transport (with the
// message bytes when the owner does not have them yet: one body, or all of a MULTIAPPEND),
// and on the owning node turns incoming requests back into local actor requests,
// forwarding IMAP folder events (of the selected folder, and NOTIFY's of every folder)
// to the session's node through one proxy listener per session.
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { BlobStore, FinishedUpload } from '../store/blob-store.js';
import type { MessageStructure } from '../mime/types.js';
import { TransportError, type NodeTransport } from '../transport/transport.js';
import type { MailboxRequestBody, NodeRequest } from './protocol.js';
import type { FolderEventMessage } from '../mailbox/imap-messages.js';
import { dispatch, isActorRef, nobody, stop } from '../core/supervision.js';
import { defineActor, spawnActor } from '../core/actor.js';
import { NodeUnavailableError, type RemoteMailboxPort } from '../mailbox/registry.js';

/** What the owning node needs from its local registry. */
export interface LocalMailboxes {
  askLocal<Res>(mailboxId: string, build: (replyTo: Ref<Res>) => unknown, timeoutMs?: number): Promise<Res>;
  pinLocal(mailboxId: string, delta: 1 | -1): void;
}

const REMOTE_TIMEOUT = 60_000;

export class RemoteMailboxes implements RemoteMailboxPort {
  /** IMAP sessions of this node whose folder events come from other nodes, kept while SELECT or NOTIFY needs them. */
  private readonly sessionListeners = new Map<string, { ref: Ref<FolderEventMessage>; uses: Set<'select' | 'watch'> }>();
  /** Proxy listeners on this (owning) node, by session id, and what holds each (SELECT, NOTIFY). */
  private readonly proxies = new Map<string, { ref: Ref<FolderEventMessage>; uses: Set<'select' | 'watch'> }>();

  constructor(
    readonly self: number,
    private readonly transport: NodeTransport,
    private readonly blobs: BlobStore,
    private readonly proxyParent: Ref<unknown>,
    private readonly log: Logger,
  ) {}

  /** Sends a mailbox request to its owner and waits for the reply. */
  async ask<Res>(owner: number, mailboxId: string, build: (replyTo: Ref<Res>) => unknown, bodyBytes?: Buffer): Promise<Res> {
    const { replyTo: _replyTo, ...request } = build(nobody()) as MailboxRequestBody & { replyTo?: unknown };
    let body: Buffer | undefined;
    let bodies: Buffer[] | undefined;
    if (request.type === 'select' || request.type === 'watch') {
      const use = request.type === 'select' ? 'select' : 'watch';
      if (request.type === 'watch' && request.watch !== true) this.releaseListener(request.session as string, 'watch');
      else if (isActorRef<FolderEventMessage>(request.listener)) this.holdListener(request.session as string, request.listener, use);
      delete request.listener;
    }
    if (request.type === 'unselect') this.releaseListener(request.session as string, 'select');
    if (request.type === 'deliver' || request.type === 'append') body = bodyBytes ?? await this.blobs.readAll(request.blob as string);
    const uploads = request.type === 'append-many' ? (request.items as Array<{ blob: string; uploadHolder: string }>) : [];
    if (uploads.length > 0) bodies = await Promise.all(uploads.map((item) => this.blobs.readAll(item.blob)));
    const reply = await this.transport.request<Res>(owner, { kind: 'mailbox', mailboxId, request, body, bodies, origin: this.self } satisfies NodeRequest, REMOTE_TIMEOUT)
      .catch((err: Error) => {
        throw err instanceof TransportError ? new NodeUnavailableError(owner, err) : err;
      });
    if (request.type === 'append') await this.releaseUpload(request.blob as string, request.uploadHolder as string);
    // The owner took its own copies of MULTIAPPEND's bodies: the local uploads go.
    for (const item of uploads) await this.releaseUpload(item.blob, item.uploadHolder);
    return reply;
  }

  /** The owner took its own copy of an APPEND body: the local upload reference goes. */
  private async releaseUpload(sha: string, holder: string): Promise<void> {
    await this.blobs.db.commit([this.blobs.unrefOp(sha, holder)]);
    await this.blobs.collect(sha);
  }

  async readAll(owner: number, sha: string): Promise<Buffer> {
    const bytes = await this.transport.request<Uint8Array>(owner, { kind: 'body', sha } satisfies NodeRequest, REMOTE_TIMEOUT);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  structure(owner: number, sha: string): Promise<MessageStructure> {
    return this.transport.request<MessageStructure>(owner, { kind: 'structure', sha } satisfies NodeRequest, REMOTE_TIMEOUT);
  }

  pin(owner: number, mailboxId: string, delta: 1 | -1): void {
    this.transport.request(owner, { kind: 'pin', mailboxId, delta } satisfies NodeRequest, REMOTE_TIMEOUT)
      .catch((err) => this.log.warn({ err, mailboxId, owner }, 'remote pin failed'));
  }

  /** On the session's node: a folder event from the owner. */
  deliverEvent(session: string, event: FolderEventMessage['event']): void {
    const listener = this.sessionListeners.get(session);
    if (listener) dispatch(listener.ref, { type: 'folder-event', event });
  }

  private holdListener(session: string, ref: Ref<FolderEventMessage>, use: 'select' | 'watch'): void {
    const held = this.sessionListeners.get(session);
    if (held === undefined || held.ref !== ref) this.sessionListeners.set(session, { ref, uses: new Set([...(held?.uses ?? []), use]) });
    else held.uses.add(use);
  }

  private releaseListener(session: string, use: 'select' | 'watch'): void {
    const held = this.sessionListeners.get(session);
    if (held === undefined) return;
    held.uses.delete(use);
    if (held.uses.size === 0) this.sessionListeners.delete(session);
  }

  forgetSession(session: string): void {
    this.sessionListeners.delete(session);
  }

  /** On the owning node: runs a request that came from another node. */
  async handle(request: Extract<NodeRequest, { kind: 'mailbox' }>, local: LocalMailboxes): Promise<unknown> {
    const message = { ...request.request };
    // Only the process that queued a first copy knows which other copies reached it: here it checks.
    if (message.type === 'deliver' && message.firstCopy) delete message.firstCopy;
    let prepared: FinishedUpload | null = null;
    if (request.body && message.type === 'deliver') {
      // The body is created in the mailbox actor's own batch, with the message's reference.
      prepared = await this.blobs.prepareBody(Buffer.from(request.body));
      message.blobOps = prepared.ops;
    }
    if (request.body && message.type === 'append') await this.blobs.storeBody(Buffer.from(request.body), message.uploadHolder as string);
    if (request.bodies && message.type === 'append-many') await this.storeUploads(message.items as Array<{ uploadHolder: string }>, request.bodies);
    if (message.type === 'select') message.listener = this.proxyFor(message.session as string, request.origin, 'select');
    if (message.type === 'unselect') this.releaseProxy(message.session as string, 'select');
    if (message.type === 'watch') {
      if (message.watch === true) message.listener = this.proxyFor(message.session as string, request.origin, 'watch');
      else this.releaseProxy(message.session as string, 'watch');
    }
    let stored = false;
    try {
      const reply = await local.askLocal<{ ok: boolean; duplicate?: boolean }>(request.mailboxId, (replyTo) => ({ ...message, replyTo }), REMOTE_TIMEOUT);
      stored = reply.ok && reply.duplicate === false;
      return reply;
    } finally {
      if (prepared && !stored && prepared.discardOps.length > 0) await this.blobs.db.write(prepared.discardOps);
      prepared?.release();
    }
  }

  /**
   * MULTIAPPEND's bodies, each under its upload reference as a single APPEND's (the mailbox
   * actor releases them all, filed or not). A body that cannot be stored releases those before it.
   */
  private async storeUploads(items: Array<{ uploadHolder: string }>, bodies: Uint8Array[]): Promise<void> {
    if (bodies.length !== items.length) throw new Error('MULTIAPPEND bodies do not match its messages');
    const stored: Array<{ sha: string; holder: string }> = [];
    try {
      for (const [i, item] of items.entries()) stored.push({ sha: await this.blobs.storeBody(Buffer.from(bodies[i]!), item.uploadHolder), holder: item.uploadHolder });
    } catch (err) {
      for (const { sha, holder } of stored) await this.releaseUpload(sha, holder);
      throw err;
    }
  }

  /** The session's one proxy on this node, made on first use; SELECT and NOTIFY share it. */
  private proxyFor(session: string, origin: number, use: 'select' | 'watch'): Ref<FolderEventMessage> {
    const existing = this.proxies.get(session);
    if (existing) {
      existing.uses.add(use);
      return existing.ref;
    }
    const listener = defineActor({ what: `folder event proxy ${session}`, restart: { strategy: 'stop' }, handle: (state: undefined, msg: FolderEventMessage) => {
      this.transport.request(origin, { kind: 'folder-event', session, event: msg.event } satisfies NodeRequest, REMOTE_TIMEOUT)
        .catch((err) => this.log.warn({ err, session, origin }, 'folder event not forwarded'));
      return state;
    } });
    const proxy = spawnActor(this.proxyParent, listener, `listener-${session.replace(/[^A-Za-z0-9_-]/g, '_')}-${Date.now().toString(36)}`, this.log);
    this.proxies.set(session, { ref: proxy, uses: new Set([use]) });
    return proxy;
  }

  /** Stops the proxy once neither a selected folder nor NOTIFY needs it. */
  private releaseProxy(session: string, use: 'select' | 'watch'): void {
    const proxy = this.proxies.get(session);
    if (!proxy) return;
    proxy.uses.delete(use);
    if (proxy.uses.size > 0) return;
    this.proxies.delete(session);
    stop(proxy.ref);
  }
}
