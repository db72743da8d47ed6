// Messages a mailbox actor understands, and their answers. A mailbox is one user's
// whole message store (every folder); its actor is the only writer of it.
import type { Ref } from 'nact';
import type { Failure } from '../core/supervision.js';
import type { MailboxExport } from '../store/mailbox-transfer.js';
import type { WriteOp } from '../store/database.js';
import type { SharedCommit } from '../store/shared-commit.js';
import type { MailboxImapRequest } from './imap-messages.js';

export interface PopMessage {
  uid: number;
  size: number;
  blob: string;
}

export type DeliverReply = { ok: true; uid: number; duplicate: boolean } | Failure;
export type PopOpenReply = { ok: true; uidValidity: number; messages: readonly PopMessage[] } | { ok: false; error: 'in-use'; temporary: true } | Failure;
export type DoneReply = { ok: true } | Failure;
export type MoveOutReply = { ok: true; data: MailboxExport } | Failure;
export type MailboxStatsReply = { ok: true; messages: number; bytes: number } | Failure;

export type MailboxRequest =
  /**
   * `mayRepeat`: an earlier attempt may have been stored already (a retry, or after a restart): check the delivery marker.
   * `'forwarded'`: queued here by the node that accepted it, whose own copy would arrive from that node: check only if one did (RepeatedDeliveries).
   */
  | {
    type: 'deliver'; deliveryId: string; mayRepeat: boolean | 'forwarded'; blob: string; size: number; internalDate: number; quota: number;
    /** In-process only: ops creating the body (bytes that came from another node), committed with the message. */
    blobOps?: WriteOp[];
    /** From a plugin's beforeDelivery verdict: the folder (created when missing; INBOX by default) and flags. */
    folder?: string;
    flags?: string[];
    /** In-process only: the synced batch shared with the other local recipients of the same queue entry. */
    shared?: SharedCommit;
    replyTo: Ref<DeliverReply>;
  }
  | { type: 'pop-open'; session: string; replyTo: Ref<PopOpenReply> }
  | { type: 'pop-commit'; session: string; uids: number[]; replyTo: Ref<DoneReply> }
  | { type: 'pop-release'; session: string; replyTo: Ref<DoneReply> }
  | { type: 'stats'; replyTo: Ref<MailboxStatsReply> }
  /** Mailbox move (cluster rebalance): stop serving and hand out the mailbox's records; later requests wait. */
  | { type: 'move-out'; replyTo: Ref<MoveOutReply> }
  /** The mailbox now lives on `to`: forget it here and forward the waiting (and any later) requests there. */
  | { type: 'move-done'; to: number; replyTo: Ref<DoneReply> }
  /** The move failed: serve the mailbox here again, starting with the waiting requests. */
  | { type: 'move-abort'; replyTo: Ref<DoneReply> }
  /** Test-only: makes the actor throw, to show supervision (honoured only with testFaults). */
  | { type: 'inject-fault'; replyTo: Ref<DoneReply> }
  | MailboxImapRequest;
