// Mailboxes held by other nodes: sends their requests over the transport (with the
// message bytes when the owner does not have them yet), and on the owning node turns
// incoming requests back into local actor requests, forwarding IMAP folder events
// to the session's node.
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
  /** IMAP sessions of this node whose folder events come from other nodes. */
  private readonly sessionListeners = new Map<string, Ref<FolderEventMessage>>();
  /** Proxy listeners on this (owning) node, by session id. */
  private readonly proxies = new Map<string, Ref<FolderEventMessage>>();

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
    if (request.type === 'select') {
      if (isActorRef<FolderEventMessage>(request.listener)) this.sessionListeners.set(request.session as string, request.listener);
      delete request.listener;
    }
    if (request.type === 'deliver' || request.type === 'append') body = bodyBytes ?? await this.blobs.readAll(request.blob as string);
    const reply = await this.transport.request<Res>(owner, { kind: 'mailbox', mailboxId, request, body, origin: this.self } satisfies NodeRequest, REMOTE_TIMEOUT)
      .catch((err: Error) => {
        throw err instanceof TransportError ? new NodeUnavailableError(owner, err) : err;
      });
    if (request.type === 'append') await this.releaseUpload(request.blob as string, request.uploadHolder as string);
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
    if (listener) dispatch(listener, { type: 'folder-event', event });
  }

  forgetSession(session: string): void {
    this.sessionListeners.delete(session);
  }

  /** On the owning node: runs a request that came from another node. */
  async handle(request: Extract<NodeRequest, { kind: 'mailbox' }>, local: LocalMailboxes): Promise<unknown> {
    const message = { ...request.request };
    let prepared: FinishedUpload | null = null;
    if (request.body && message.type === 'deliver') {
      // The body is created in the mailbox actor's own batch, with the message's reference.
      prepared = await this.blobs.prepareBody(Buffer.from(request.body));
      message.blobOps = prepared.ops;
    }
    if (request.body && message.type === 'append') await this.blobs.storeBody(Buffer.from(request.body), message.uploadHolder as string);
    if (message.type === 'select') message.listener = this.proxyFor(message.session as string, request.origin);
    if (message.type === 'unselect') this.dropProxy(message.session as string);
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

  private proxyFor(session: string, origin: number): Ref<FolderEventMessage> {
    this.dropProxy(session);
    const listener = defineActor({ what: `folder event proxy ${session}`, restart: { strategy: 'stop' }, handle: (state: undefined, msg: FolderEventMessage) => {
      this.transport.request(origin, { kind: 'folder-event', session, event: msg.event } satisfies NodeRequest, REMOTE_TIMEOUT)
        .catch((err) => this.log.warn({ err, session, origin }, 'folder event not forwarded'));
      return state;
    } });
    const proxy = spawnActor(this.proxyParent, listener, `listener-${session.replace(/[^A-Za-z0-9_-]/g, '_')}-${Date.now().toString(36)}`, this.log);
    this.proxies.set(session, proxy);
    return proxy;
  }

  private dropProxy(session: string): void {
    const proxy = this.proxies.get(session);
    if (!proxy) return;
    this.proxies.delete(session);
    stop(proxy);
  }
}
