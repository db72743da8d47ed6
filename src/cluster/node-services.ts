// What one node offers the rest of the cluster (and the admin API): its counters,
// its queue, fault injection for tests; and the dispatcher for requests arriving
// from other nodes over the transport.
import type { UsageRow } from '../admin/dashboard-data.js';
import type { DeliveryResult, DeliveryTask, QueueControl, QueueListing } from '../queue/queue.js';
import type { Directory } from '../directory/directory.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { BlobStore } from '../store/blob-store.js';
import type { RemoteMailboxes } from './remote-mailboxes.js';
import type { ForwardedEntry, NodeRequest } from './protocol.js';
import { dropImport, importBodies, importMailbox, moveMailbox, type MoveContext } from './mailbox-move.js';
import { metricsAsJson } from '../core/metrics.js';
import { recentRefusals } from '../smtp/refusal-log.js';
import { runMailboxAdminOp, type MailboxAdmin } from '../admin/mailbox-admin.js';
import type { BackupJob } from '../admin/backup.js';

export interface NodeCounters {
  messages: number;
  mailboxBytes: number;
  mailboxes: number;
  queued: number;
  queueEntries: number;
  blobs: number;
  blobBytes: number;
  activeMailboxes: number;
  sessions: number;
  delivered: number;
  syncedBatches: number;
  syncedCommits: number;
  /** Local deliveries waiting for a delivery worker, and the workers free right now. */
  ready: number;
  idleWorkers: number;
  /** Deliveries this node did for other nodes (work sharing). */
  borrowed: number;
}

export interface NodeServices {
  /** `mailboxTotals: false` skips reading every account (messages, mailboxBytes, mailboxes stay 0). */
  stats(options?: { mailboxTotals: boolean }): Promise<NodeCounters>;
  queueList(): Promise<QueueListing[]>;
  queueFlush(domain?: string): void;
  /** Another node is (back) up: deliveries that waited for it are retried now. */
  nodeUp(node: number): void;
  queueControl(action: QueueControl, queueId: string): Promise<{ ok: true } | { ok: false; error: string }>;
  injectFault(mailboxId: string): Promise<{ ok: boolean; error?: string }>;
  /** Ready local deliveries handed to another node, under a lease: those for mailboxes not held here. */
  lend(max: number, leaseMs: number): Promise<DeliveryTask[]>;
  lentResults(results: Array<{ task: DeliveryTask; result: DeliveryResult }>): void;
  /** Queues, durably, a message another node accepted for mailboxes of this node. */
  enqueueForwarded(entry: ForwardedEntry, body: Buffer): Promise<void>;
  /** The plugins of this node with their counters (src/plugins). */
  plugins?(): unknown[];
  /** The largest mailboxes held here, for the dashboard. */
  largestMailboxes?(): Promise<UsageRow[]>;
}

export interface NodeRequestContext {
  services: NodeServices;
  directory: Directory;
  mailboxes: MailboxRegistry;
  blobs: BlobStore;
  remote?: RemoteMailboxes;
  move?: MoveContext;
  /** Runs the primary's doveadm-like operations (export, import, search, ...). */
  mailboxAdmin: MailboxAdmin;
  /** Copies this node's store for the primary's cluster backup. */
  backup: BackupJob;
}

export class UnknownRequestError extends Error {}

const LEASE_MS = 60_000;

/** Hands ready deliveries to an idle node, with the bodies they need. */
async function lendTasks(ctx: NodeRequestContext, max: number): Promise<{ tasks: DeliveryTask[]; bodies: Record<string, Uint8Array> }> {
  const tasks = await ctx.services.lend(max, LEASE_MS);
  const bodies: Record<string, Uint8Array> = {};
  for (const task of tasks) bodies[task.blob] ??= await ctx.blobs.readAll(task.blob);
  return { tasks, bodies };
}

function needMove(ctx: NodeRequestContext): MoveContext {
  if (!ctx.move) throw new UnknownRequestError('this node is not part of a cluster');
  return ctx.move;
}

export async function handleNodeRequest(request: NodeRequest, ctx: NodeRequestContext): Promise<unknown> {
  switch (request.kind) {
    case 'mailbox':
      if (!ctx.remote) throw new UnknownRequestError('this node is not part of a cluster');
      return ctx.remote.handle(request, ctx.mailboxes);
    case 'body':
      return ctx.blobs.readAll(request.sha);
    case 'structure':
      return ctx.blobs.structure(request.sha);
    case 'pin':
      ctx.mailboxes.pinLocal(request.mailboxId, request.delta);
      return null;
    case 'enqueue':
      await ctx.services.enqueueForwarded(request.entry, Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength));
      return null;
    case 'folder-event':
      ctx.remote?.deliverEvent(request.session, request.event);
      return null;
    case 'dir-changes':
      if (!ctx.directory.applyChanges(request.changes)) return { gap: true, appliedSeq: ctx.directory.cache.appliedSeq };
      return { gap: false, appliedSeq: ctx.directory.cache.appliedSeq };
    case 'stats':
      return ctx.services.stats();
    case 'plugins':
      return ctx.services.plugins?.() ?? [];
    case 'ping':
      return null;
    case 'metrics':
      return metricsAsJson();
    case 'recent-refusals':
      return recentRefusals();
    case 'largest-mailboxes':
      return (await ctx.services.largestMailboxes?.()) ?? [];
    case 'admin-mailbox':
      return runMailboxAdminOp(ctx.mailboxAdmin, request.op, request.args);
    case 'backup-hold':
      await ctx.backup.hold(request.maxMs);
      return null;
    case 'backup-start':
      return ctx.backup.start(request.dir, { manifest: false, whileHeld: true });
    case 'backup-release':
      ctx.backup.release();
      return null;
    case 'backup-status':
      return ctx.backup.status();
    case 'queue-list':
      return ctx.services.queueList();
    case 'queue-flush':
      ctx.services.queueFlush(request.domain);
      return null;
    case 'node-up':
      ctx.services.nodeUp(request.node);
      return null;
    case 'queue-control':
      return ctx.services.queueControl(request.action, request.queueId);
    case 'inject-fault':
      return ctx.services.injectFault(request.mailboxId);
    case 'borrow':
      return lendTasks(ctx, request.max);
    case 'lent-results':
      ctx.services.lentResults(request.results);
      return null;
    case 'move-mailbox':
      return moveMailbox(needMove(ctx), request.mailboxId, request.to);
    case 'import-bodies':
      return importBodies(needMove(ctx), request.mailboxId, request.bodies);
    case 'import-mailbox':
      return importMailbox(needMove(ctx), request.data);
    case 'drop-import': {
      const move = needMove(ctx);
      return dropImport(move, request.mailboxId, request.shas, ctx.directory.cache.nodeOf(request.mailboxId) === move.self);
    }
    default:
      throw new UnknownRequestError(`a worker does not serve ${request.kind}`);
  }
}
