// Finds or starts the mailbox actor for a mailbox id, and stops actors that have
// been idle (no request in flight, no session holding them) for a while. With a
// placement (several node processes), requests for mailboxes held by another node
// go there; message bodies are read from the node that holds the mailbox.
import type { RepeatedDeliveries } from './repeated-deliveries.js';
import type { Ref } from 'nact';
import type { MessageStructure } from '../mime/types.js';
import type { SortKeys } from '../mime/sort-keys.js';
import { sortSnapshotKey } from '../store/sort-key-snapshots.js';
import { stop } from '../core/supervision.js';
import { ReplySlots } from '../core/reply-slots.js';
import { defineActor, LONG_LIVED, spawnActor } from '../core/actor.js';
import { mailboxBehaviour } from './mailbox.js';
import type { MailboxDeps } from './state.js';
import type { MailboxRequest } from './messages.js';

interface Entry {
  ref: Ref<MailboxRequest>;
  inFlight: number;
  pins: number;
  lastUsed: number;
}

/** Where mailboxes live when this process is one node of several. */
export interface MailboxPlacement {
  self: number;
  /** The owner if this node already knows it (no round trip). */
  ownerKnown(mailboxId: string): number | undefined;
  /** The owner, asking the router to place the mailbox if it has no node yet. */
  owner(mailboxId: string): Promise<number>;
  remote: RemoteMailboxPort;
  /** Across machines: whether a node's lease is live (absent: every node counts as live). */
  isLive?(node: number): boolean;
  /** Across machines: whether a node answers right now (one cheap round trip). */
  reachable?(node: number): Promise<boolean>;
}

/** How requests and bodies reach a mailbox held by another node (src/cluster/remote-mailboxes.ts). */
export interface RemoteMailboxPort {
  /** Rejects with NodeUnavailableError when the owner does not answer. */
  ask<Res>(owner: number, mailboxId: string, build: (replyTo: Ref<Res>) => unknown, bodyBytes?: Buffer): Promise<Res>;
  readAll(owner: number, sha: string): Promise<Buffer>;
  structure(owner: number, sha: string): Promise<MessageStructure>;
  /** Keeps the owner's actor for this mailbox alive while a session here uses it. */
  pin(owner: number, mailboxId: string, delta: 1 | -1): void;
}

/** The node holding a mailbox did not answer (down, restarting, or gone mid-request). */
export class NodeUnavailableError extends Error {
  constructor(readonly node: number, cause: Error) {
    super(`node ${node} unavailable: ${cause.message}`);
  }
}

export class MailboxRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  /** Answers from this node's mailbox actors (no per-request timer, unique reply ids). */
  private readonly replies = new ReplySlots();
  private placement: MailboxPlacement | null = null;

  constructor(
    private readonly parent: Ref<unknown>,
    private readonly deps: MailboxDeps,
    private readonly idleMs: number,
  ) {
    this.sweeper = setInterval(() => this.stopIdle(), Math.max(1000, Math.floor(idleMs / 2)));
    this.sweeper.unref();
  }

  /** Which forwarded deliveries into this node's mailboxes must check their delivery marker. */
  get repeatedDeliveries(): RepeatedDeliveries | undefined {
    return this.deps.repeats;
  }

  get active(): number {
    return this.entries.size;
  }

  private entry(mailboxId: string): Entry {
    let entry = this.entries.get(mailboxId);
    if (!entry) {
      // Reset rebuilds the mailbox from disk. Past the limit the entry is dropped, so the
      // next request starts a fresh actor instead of writing to a stopped one.
      const mailbox = defineActor({
        what: `mailbox ${mailboxId}`, handle: mailboxBehaviour(mailboxId, this.deps), restart: { strategy: 'reset', ...LONG_LIVED },
        onGiveUp: (self) => this.forget(mailboxId, self),
      });
      const ref = spawnActor(this.parent, mailbox, `mailbox-${mailboxId}`, this.deps.log);
      entry = { ref, inFlight: 0, pins: 0, lastUsed: Date.now() };
      this.entries.set(mailboxId, entry);
    }
    return entry;
  }

  private forget(mailboxId: string, ref: Ref<MailboxRequest>): void {
    if (this.entries.get(mailboxId)?.ref === ref) this.entries.delete(mailboxId);
  }

  usePlacement(placement: MailboxPlacement): void {
    this.placement = placement;
  }

  /** True when the mailbox is held by another node that is down: its lease lapsed, or it does not answer. */
  async ownerUnavailable(mailboxId: string): Promise<boolean> {
    const placement = this.placement;
    if (!placement?.isLive) return false;
    const owner = placement.ownerKnown(mailboxId);
    if (owner === undefined || owner === placement.self) return false;
    if (!placement.isLive(owner)) return true;
    return placement.reachable ? !(await placement.reachable(owner)) : false;
  }

  /** The node holding the mailbox, or null when it is this one. */
  async remoteOwner(mailboxId: string): Promise<number | null> {
    if (!this.placement) return null;
    const owner = await this.placement.owner(mailboxId);
    return owner === this.placement.self ? null : owner;
  }

  /** Sends a request to the mailbox's actor (here or on its node) and waits for its answer. */
  async ask<Res>(mailboxId: string, build: (replyTo: Ref<Res>) => MailboxRequest, timeoutMs?: number): Promise<Res> {
    const owner = await this.remoteOwner(mailboxId);
    if (owner !== null) return this.placement!.remote.ask<Res>(owner, mailboxId, build);
    return this.askLocal(mailboxId, build, timeoutMs);
  }

  /** The whole body of a message of this mailbox. */
  async readAll(mailboxId: string, sha: string): Promise<Buffer> {
    const owner = await this.remoteOwner(mailboxId);
    return owner === null ? this.deps.blobs.readAll(sha) : this.placement!.remote.readAll(owner, sha);
  }

  /** The body in chunks (streamed from the local store; in one piece from another node). */
  async *read(mailboxId: string, sha: string): AsyncGenerator<Buffer> {
    const owner = await this.remoteOwner(mailboxId);
    if (owner === null) {
      yield* this.deps.blobs.read(sha);
      return;
    }
    yield await this.placement!.remote.readAll(owner, sha);
  }

  /** The body when this node holds the mailbox and has the body in memory now; else undefined (use read). */
  cachedBody(mailboxId: string, sha: string): Buffer | undefined {
    const placement = this.placement;
    if (placement !== null && placement.ownerKnown(mailboxId) !== placement.self) return undefined;
    return this.deps.blobs.cachedBody(sha);
  }

  async structure(mailboxId: string, sha: string): Promise<MessageStructure> {
    const owner = await this.remoteOwner(mailboxId);
    return owner === null ? this.deps.blobs.structure(sha) : this.placement!.remote.structure(owner, sha);
  }

  /**
   * SORT/THREAD keys of many bodies in one read (null: gone); with the folder's UIDVALIDITY
   * through its snapshot (store/sort-key-snapshots.ts). From a mailbox on another node
   * all null: the caller computes them from the structures it reads from there.
   */
  async sortKeys(mailboxId: string, shas: string[], uidValidity?: number): Promise<Array<SortKeys | null>> {
    const owner = await this.remoteOwner(mailboxId);
    if (owner !== null) return shas.map(() => null);
    return this.deps.blobs.sortKeys(shas, uidValidity === undefined ? undefined : sortSnapshotKey(mailboxId, uidValidity));
  }

  /** A request for a mailbox of this node. */
  async askLocal<Res>(mailboxId: string, build: (replyTo: Ref<Res>) => MailboxRequest, timeoutMs?: number): Promise<Res> {
    const entry = this.entry(mailboxId);
    entry.inFlight += 1;
    try {
      return await this.replies.ask<MailboxRequest, Res>(entry.ref, build, timeoutMs);
    } finally {
      entry.inFlight -= 1;
      entry.lastUsed = Date.now();
    }
  }

  /** Keeps the actor alive while a session holds state in it (POP3 lock, IMAP selection). */
  pin(mailboxId: string): void {
    this.pinWhere(mailboxId, 1);
  }

  unpin(mailboxId: string): void {
    this.pinWhere(mailboxId, -1);
  }

  private pinWhere(mailboxId: string, delta: 1 | -1): void {
    const owner = this.placement?.ownerKnown(mailboxId);
    if (owner !== undefined && owner !== this.placement!.self) {
      this.placement!.remote.pin(owner, mailboxId, delta);
      return;
    }
    this.pinLocal(mailboxId, delta);
  }

  pinLocal(mailboxId: string, delta: 1 | -1): void {
    if (delta === 1) {
      this.entry(mailboxId).pins += 1;
      return;
    }
    const entry = this.entries.get(mailboxId);
    if (entry && entry.pins > 0) {
      entry.pins -= 1;
      entry.lastUsed = Date.now();
    }
  }

  private stopIdle(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [id, entry] of this.entries) {
      if (entry.inFlight === 0 && entry.pins === 0 && entry.lastUsed < cutoff) {
        this.entries.delete(id);
        stop(entry.ref);
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.replies.close();
    for (const entry of this.entries.values()) stop(entry.ref);
    this.entries.clear();
  }
}
