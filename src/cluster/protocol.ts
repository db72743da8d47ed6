// Requests between ternmail node processes (over a NodeTransport). Plain data only:
// refs never cross; a reply comes back as the transport's answer, and an IMAP
// session's listener is named by (node, session) and reached through its node.
import type { DirectoryChange, DirectoryEntry } from '../directory/records.js';
import type { DirectoryRequestBody } from '../directory/directory.js';
import type { FolderEvent } from '../mailbox/imap-messages.js';
import type { DeliveryResult, DeliveryTask, QueueControl, QueueListing } from '../queue/queue.js';
import type { MailboxExport } from '../store/mailbox-transfer.js';
import type { NewQueueEntry } from '../store/queue-store.js';
import type { AuthOutcome } from '../net/auth-guard.js';

/** The envelope of a message accepted on one node and queued on the node of its mailboxes. */
export type ForwardedEntry = NewQueueEntry;

/** A mailbox request without its replyTo; a select's listener becomes `listenerSession`. */
export type MailboxRequestBody = { type: string; [field: string]: unknown };

export interface NodeStats {
  node: number;
  pid: number;
  roles: string[];
  startedAt: number;
  mailboxes: number;
  messages: number;
  mailboxBytes: number;
  blobs: number;
  blobBytes: number;
  queued: number;
  queueEntries: number;
  sessions: number;
  delivered: number;
  ready: number;
  idleWorkers: number;
  borrowed: number;
}

export type NodeRequest =
  // to a store node
  | { kind: 'mailbox'; mailboxId: string; request: MailboxRequestBody; body?: Uint8Array; origin: number; bodies?: Uint8Array[] }
  | { kind: 'body'; sha: string }
  | { kind: 'structure'; sha: string }
  | { kind: 'pin'; mailboxId: string; delta: 1 | -1 }
  | { kind: 'enqueue'; entry: ForwardedEntry; body: Uint8Array }
  // to the node of an IMAP session
  | { kind: 'folder-event'; session: string; event: FolderEvent }
  // from the primary to every worker
  | { kind: 'dir-changes'; changes: DirectoryChange[] }
  | { kind: 'stats' }
  /** The node's plugins with their counters (`ternmail plugins`). */
  | { kind: 'plugins' }
  /** Answered at once with null: the cost of one hop between nodes (bench/node-hop.ts). */
  | { kind: 'ping' }
  | { kind: 'metrics' }
  | { kind: 'recent-refusals' }
  | { kind: 'largest-mailboxes' }
  | { kind: 'admin-mailbox'; op: string; args: unknown[] }
  /** A cluster backup's barrier: hold this store's writes (at most maxMs), take the snapshot while held, release. */
  | { kind: 'backup-hold'; maxMs: number }
  | { kind: 'backup-start'; dir: string }
  | { kind: 'backup-release' }
  | { kind: 'backup-status' }
  | { kind: 'queue-list' }
  | { kind: 'queue-flush'; domain?: string }
  | { kind: 'node-up'; node: number }
  | { kind: 'queue-control'; action: QueueControl; queueId: string }
  | { kind: 'inject-fault'; mailboxId: string }
  // work sharing: an idle node borrows ready deliveries from a busy one and reports back
  | { kind: 'borrow'; max: number }
  | { kind: 'lent-results'; results: Array<{ task: DeliveryTask; result: DeliveryResult }> }
  // rebalance: to the node holding a mailbox, and from it to the destination
  | { kind: 'move-mailbox'; mailboxId: string; to: number }
  | { kind: 'import-bodies'; mailboxId: string; bodies: Uint8Array[] }
  | { kind: 'import-mailbox'; data: MailboxExport }
  | { kind: 'drop-import'; mailboxId: string; shas: string[] }
  // from a worker to the primary
  | { kind: 'dir-snapshot' }
  | { kind: 'dir-since'; seq: number }
  | { kind: 'dir-request'; message: DirectoryRequestBody }
  | { kind: 'place'; mailboxId: string }
  | { kind: 'move-placement'; mailboxId: string; node: number }
  | { kind: 'heartbeat'; stats: NodeStats }
  // login attempts, decided by the primary's auth guard for the whole cluster
  | { kind: 'auth-reserve'; ip: string; account: string }
  | { kind: 'auth-settle'; ip: string; account: string; outcome: AuthOutcome };

export type DirSnapshot = { seq: number; entries: DirectoryEntry[] };
export type QueueListReply = QueueListing[];
