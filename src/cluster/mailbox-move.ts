// Moving one mailbox between store nodes (cluster rebalance), run by the node that
// holds it: the mailbox actor stops serving and hands out its records (requests wait),
// the bodies and then the records are copied to the destination, the router's
// placement is switched, and the source forgets the mailbox and forwards what waited.
// Any failure before the switch puts the mailbox back in service where it was.
import type { NodeTransport } from '../transport/transport.js';
import type { NodeRequest } from './protocol.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { DoneReply, MoveOutReply } from '../mailbox/messages.js';
import type { BlobStore } from '../store/blob-store.js';
import type { Database } from '../store/database.js';
import type { MailboxStore } from '../store/mailbox-store.js';
import { importOps, removalOps, transferHolder, type MailboxExport } from '../store/mailbox-transfer.js';

const BODY_BATCH_BYTES = 8 * 1024 * 1024;
const PRIMARY = 0;

export type MoveResult = { moved: true; messages: number; bytes: number } | { moved: false; reason: string };

export interface MoveContext {
  self: number;
  transport: NodeTransport;
  mailboxes: MailboxRegistry;
  blobs: BlobStore;
  db: Database;
  store: MailboxStore;
}

async function sendBodies(ctx: MoveContext, mailboxId: string, to: number, data: MailboxExport): Promise<number> {
  const shas = [...new Set(data.messages.map((m) => m.record.blob))];
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let total = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await ctx.transport.request(to, { kind: 'import-bodies', mailboxId, bodies: batch } satisfies NodeRequest, 120_000);
    batch = [];
    batchBytes = 0;
  };
  for (const sha of shas) {
    const bytes = await ctx.blobs.readAll(sha);
    batch.push(bytes);
    batchBytes += bytes.length;
    total += bytes.length;
    if (batchBytes >= BODY_BATCH_BYTES) await flush();
  }
  await flush();
  return total;
}

export async function moveMailbox(ctx: MoveContext, mailboxId: string, to: number): Promise<MoveResult> {
  if (to === ctx.self) return { moved: false, reason: 'already here' };
  const out = await ctx.mailboxes.askLocal<MoveOutReply>(mailboxId, (replyTo) => ({ type: 'move-out', replyTo }));
  if (!out.ok) return { moved: false, reason: out.error };
  let bytes = 0;
  try {
    bytes = await sendBodies(ctx, mailboxId, to, out.data);
    await ctx.transport.request(to, { kind: 'import-mailbox', data: out.data } satisfies NodeRequest, 120_000);
    await ctx.transport.request(PRIMARY, { kind: 'move-placement', mailboxId, node: to } satisfies NodeRequest, 30_000);
  } catch (err) {
    const shas = [...new Set(out.data.messages.map((m) => m.record.blob))];
    await ctx.transport.request(to, { kind: 'drop-import', mailboxId, shas } satisfies NodeRequest).catch(() => undefined);
    await ctx.mailboxes.askLocal<DoneReply>(mailboxId, (replyTo) => ({ type: 'move-abort', replyTo }));
    return { moved: false, reason: (err as Error).message };
  }
  await ctx.mailboxes.askLocal<DoneReply>(mailboxId, (replyTo) => ({ type: 'move-done', to, replyTo }));
  return { moved: true, messages: out.data.messages.length, bytes };
}

/** Destination: keeps the bodies of a mailbox being moved here until its records arrive. */
export async function importBodies(ctx: MoveContext, mailboxId: string, bodies: Uint8Array[]): Promise<null> {
  for (const body of bodies) await ctx.blobs.storeBody(Buffer.from(body.buffer, body.byteOffset, body.byteLength), transferHolder(mailboxId));
  return null;
}

/** Destination: the mailbox's records, with the bodies' references, in one synced batch. */
export async function importMailbox(ctx: MoveContext, data: MailboxExport): Promise<null> {
  // Deliveries it got elsewhere were not seen here: forwarded mail queued here checks its markers from now on.
  ctx.mailboxes.repeatedDeliveries?.assumeAny();
  await ctx.db.commit(importOps(ctx.store, ctx.blobs, data));
  return null;
}

/** Destination, after a failed move: removes a half-imported mailbox (unless it was placed here). */
export async function dropImport(ctx: MoveContext, mailboxId: string, bodies: string[], placedHere: boolean): Promise<null> {
  const ops = [];
  const shas = new Set<string>(bodies);
  for (const sha of bodies) ops.push(ctx.blobs.unrefOp(sha, transferHolder(mailboxId)));
  if (!placedHere) {
    const account = await ctx.store.loadAccount(mailboxId);
    if (account) {
      const data: MailboxExport = { account: account.account, folders: account.folders, messages: [], tombstones: [] };
      for (const folder of account.folders) {
        for (const record of await ctx.store.listMessages(mailboxId, folder.id)) data.messages.push({ folderId: folder.id, record });
      }
      ops.push(...removalOps(ctx.store, ctx.blobs, data));
      for (const m of data.messages) shas.add(m.record.blob);
    }
  }
  await ctx.db.commit(ops);
  for (const sha of shas) await ctx.blobs.collect(sha);
  return null;
}

