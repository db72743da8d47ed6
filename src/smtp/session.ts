// The SMTP session actor: one per connection, fed by smtp-server's hooks. It checks
// senders and recipients against the directory, streams DATA into the blob store,
// commits the queue entry with a synced write and only then answers 250.
import type { Readable } from 'node:stream';
import type { Ref } from 'nact';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { Logger } from '../core/logger.js';
import type { Directory } from '../directory/directory.js';
import type { Database } from '../store/database.js';
import type { BlobStore, BlobUpload } from '../store/blob-store.js';
import { newQueueId, type NewQueueEntry, type QueueRecipient, type QueueStore } from '../store/queue-store.js';
import { domainOf, normalizeAddress, type Recipient } from '../directory/records.js';
import { isStorageError } from '../store/storage-error.js';
import type { FreeSpaceGuard } from '../store/free-space.js';
import { SubmissionHeaders } from './submission-headers.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { MailboxStatsReply } from '../mailbox/messages.js';
import type { QueueMessage } from '../queue/queue.js';
import { FORWARD_MAX_BYTES, narrowSplit, partId, type MailForwarder, type RecipientSplit } from './forwarding.js';
import { queueBody, queueUpload } from '../queue/queue-body.js';
import { quotaFull } from '../mailbox/quota.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { dataHooks, mailFromHooks, rcptToHook, smtpError, unknownRecipientHook, type HookableSink, type SessionHookState } from './session-hooks.js';

export { smtpError };
import { tlsFields } from './refusal-log.js';

/** `refused`: LMTP only, recipients (as given at RCPT) refused after DATA, each with its own reply. */
export type Callback = (err?: Error | null, message?: string, refused?: ReadonlyMap<string, Error>) => void;

export type SmtpSessionMessage =
  | { type: 'mail-from'; address: SMTPServerAddress; session: SMTPServerSession; callback: Callback }
  | { type: 'rcpt-to'; address: SMTPServerAddress; session: SMTPServerSession; callback: Callback }
  | { type: 'data'; stream: Readable & { sizeExceeded?: boolean }; session: SMTPServerSession; callback: Callback };

export interface SmtpSessionDeps {
  db: Database;
  blobs: BlobStore;
  queue: QueueStore;
  queueActor: () => Ref<QueueMessage>;
  directory: Directory;
  mailboxes: MailboxRegistry;
  log: Logger;
  hostname: string;
  submission: boolean;
  maxMessageSize: number;
  maxRecipients: number;
  maxReceivedHeaders: number;
  /** In a cluster: queues mail on the nodes holding its mailboxes. */
  forwarder?: MailForwarder;
  /** Refuses new mail below the free-space watermark. */
  freeSpace?: FreeSpaceGuard;
  /** Plugin hooks (helo, mailFrom, rcptTo, data, queued); switched off without plugins. */
  hooks?: PipelineHooks;
  /** Which listener: told to plugins. */
  listener?: 'mx' | 'submission' | 'smtps';
  /**
   * LMTP: once the size is known, recipients that must be refused on their own (over
   * quota), by the address given at RCPT; the others are queued (RFC 2033 section 4.2).
   */
  refuseRecipients?: (accepted: ReadonlyMap<string, Recipient[]>, size: number) => Promise<Map<string, Error>>;
}

interface SmtpSessionState extends SessionHookState {
  /** Recipients accepted so far in this transaction, keyed by the address given at RCPT. */
  recipients: Map<string, Recipient[]>;
}

export type { SmtpSessionState };

export function initialSmtpSessionState(): SmtpSessionState {
  return { recipients: new Map(), heloPassed: null };
}

export function smtpSessionBehaviour(deps: SmtpSessionDeps) {
  return async (state: SmtpSessionState, msg: SmtpSessionMessage): Promise<SmtpSessionState> => {
    switch (msg.type) {
      case 'mail-from': {
        const now = mailFromAnswerNow(msg, state, deps);
        if (now !== undefined) {
          msg.callback(now);
          return state;
        }
        state.recipients.clear();
        msg.callback(await checkMailFrom(msg.address, msg.session, deps)
          ?? (deps.hooks?.on.helo || deps.hooks?.on.mailFrom ? await mailFromHooks(deps.hooks, msg.address, msg.session, deps.listener ?? 'mx', state) : null));
        return state;
      }
      case 'rcpt-to': {
        const checked = checkRecipient(msg.address, msg.session, state, deps);
        const refusal = (typeof checked === 'function' ? await checked() : checked)
          ?? (deps.hooks?.on.rcptTo ? await rcptToHook(deps.hooks, msg.address, msg.session, deps.listener ?? 'mx') : null);
        if (refusal && deps.hooks?.on.rcptTo) state.recipients.delete(msg.address.address);
        msg.callback(refusal);
        return state;
      }
      case 'data':
        await receiveData(msg, state, deps);
        state.recipients.clear();
        return state;
    }
  };
}

/**
 * MAIL FROM or RCPT TO answered from memory alone (the directory cache, a fresh free-space
 * reading), with no plugin hook to run and no mailbox to ask: the answer (an Error or null
 * for OK), applied to `state` as the session actor would. undefined: it has to wait for
 * something, and the session actor must do it. Used by the listener to answer in the turn
 * the command arrived, without the actor's hop (a fan-out's RCPTs are each a round trip).
 */
export function answerNow(msg: Extract<SmtpSessionMessage, { type: 'mail-from' | 'rcpt-to' }>, state: SmtpSessionState, deps: SmtpSessionDeps): Error | null | undefined {
  if (msg.type === 'mail-from') return mailFromAnswerNow(msg, state, deps);
  if (deps.hooks?.on.rcptTo) return undefined;
  const checked = checkRecipient(msg.address, msg.session, state, deps);
  return typeof checked === 'function' ? undefined : checked;
}

function mailFromAnswerNow(msg: Extract<SmtpSessionMessage, { type: 'mail-from' }>, state: SmtpSessionState, deps: SmtpSessionDeps): Error | null | undefined {
  if (deps.hooks?.on.helo || deps.hooks?.on.mailFrom) return undefined;
  const room = deps.freeSpace ? deps.freeSpace.hasRoomNow() : true;
  if (room === undefined) return undefined;
  state.recipients.clear();
  if (!room) {
    deps.log.warn({ client: msg.session.remoteAddress }, 'mail refused: free disk space below minFreeSpace');
    return insufficientStorage();
  }
  return checkSender(msg.address, msg.session, deps);
}

function authenticatedUser(session: SMTPServerSession): string | null {
  return typeof session.user === 'string' ? session.user : null;
}

async function checkMailFrom(address: SMTPServerAddress, session: SMTPServerSession, deps: SmtpSessionDeps): Promise<Error | null> {
  if (deps.freeSpace && !(await deps.freeSpace.hasRoom())) {
    deps.log.warn({ client: session.remoteAddress }, 'mail refused: free disk space below minFreeSpace');
    return insufficientStorage();
  }
  return checkSender(address, session, deps);
}

function checkSender(address: SMTPServerAddress, session: SMTPServerSession, deps: SmtpSessionDeps): Error | null {
  const user = authenticatedUser(session);
  if (!deps.submission || !user) return null;
  const from = normalizeAddress(address.address);
  if (from === user) return null;
  const owned = deps.directory.cache.resolve(from);
  if (owned.ok && owned.recipients.length === 1 && owned.recipients[0].address === user) return null;
  return smtpError(553, `5.7.1 <${address.address}>: Sender address rejected: not owned by user ${user}`);
}

/** A local user already at or over quota is refused for now (452), as an LMTP store would. */
async function overQuota(recipients: Recipient[], deps: SmtpSessionDeps): Promise<string | null> {
  for (const r of recipients) {
    if (r.kind !== 'local' || r.user.quota <= 0) continue;
    const usage = await deps.mailboxes.ask<MailboxStatsReply>(r.user.mailboxId, (replyTo) => ({ type: 'stats', replyTo }));
    if (usage.ok && quotaFull(usage.bytes, r.user.quota)) return r.address;
  }
  return null;
}

const hasQuota = (recipients: Recipient[]) => recipients.some((r) => r.kind === 'local' && r.user.quota > 0);

/** The verdict on one RCPT: known at once, or (a function) the part that has to wait, not yet started. */
type RecipientCheck = Error | null | (() => Promise<Error | null>);

/**
 * Checks one recipient against the directory cache; only a quota ask (a user with a
 * quota) or a plugin's say on an unknown user has to wait. `state` changes only once
 * the recipient is accepted.
 */
function checkRecipient(
  address: SMTPServerAddress, session: SMTPServerSession, state: SmtpSessionState, deps: SmtpSessionDeps,
): RecipientCheck {
  const given = address.address;
  if (state.recipients.size >= deps.maxRecipients) return smtpError(452, '4.5.3 Too many recipients');
  const resolution = deps.directory.cache.resolve(given);
  if (resolution.ok) {
    if (!hasQuota(resolution.recipients)) {
      state.recipients.set(given, resolution.recipients);
      return null;
    }
    return async () => {
      const full = await overQuota(resolution.recipients, deps);
      if (full) return smtpError(452, `4.2.2 <${given}>: Mailbox full`);
      state.recipients.set(given, resolution.recipients);
      return null;
    };
  }
  switch (resolution.reason) {
    case 'not-local':
      if (authenticatedUser(session)) {
        const norm = normalizeAddress(given);
        state.recipients.set(given, [{ kind: 'remote', address: norm, domain: domainOf(norm) }]);
        return null;
      }
      return smtpError(554, `5.7.1 <${given}>: Relay access denied`);
    case 'unknown-user':
      if (!deps.hooks?.on.rcptTo) return unknownUser(given);
      return async () => {
        const redirected = await unknownRecipientHook(deps.hooks!, address, session, deps.listener ?? 'mx');
        const targets = redirected ? redirected.flatMap((to) => recipientsOf(to, deps)) : [];
        if (targets.length === 0) return unknownUser(given);
        state.recipients.set(given, targets);
        return null;
      };
    case 'alias-loop':
      return smtpError(550, `5.4.6 <${given}>: Recipient address rejected: alias expansion loop`);
    case 'invalid-address':
      return smtpError(501, `5.1.3 <${given}>: Bad recipient address syntax`);
  }
}

const unknownUser = (given: string) => smtpError(550, `5.1.1 <${given}>: Recipient address rejected: User unknown in virtual mailbox table`);

/** Where a plugin's redirect of an unknown recipient goes: local mailboxes through aliases, other domains remote. */
function recipientsOf(address: string, deps: SmtpSessionDeps): Recipient[] {
  const resolution = deps.directory.cache.resolve(address);
  if (resolution.ok) return resolution.recipients;
  if (resolution.reason !== 'not-local') return [];
  const norm = normalizeAddress(address);
  return [{ kind: 'remote', address: norm, domain: domainOf(norm) }];
}

/** `with ESMTPSA`, `with LMTP`, ...: RFC 3848's protocol type, as smtp-server tracks it (HELO/EHLO, TLS, AUTH, LMTP). */
function receivedHeader(session: SMTPServerSession, hostname: string, queueId: string): Buffer {
  const protocol = session.transmissionType || 'ESMTP';
  const helo = (session.hostNameAppearsAs || 'unknown').replace(/[^\x21-\x7e]/g, '');
  const client = session.clientHostname && session.clientHostname !== `[${session.remoteAddress}]` ? session.clientHostname : 'unknown';
  const date = new Date().toUTCString().replace('GMT', '+0000');
  return Buffer.from(
    `Received: from ${helo} (${client} [${session.remoteAddress}])\r\n` +
    `\tby ${hostname} (ternmail) with ${protocol} id ${queueId};\r\n\t${date}\r\n`,
    'latin1',
  );
}

const insufficientStorage = () => smtpError(452, '4.3.1 Insufficient system storage');

async function receiveData(msg: Extract<SmtpSessionMessage, { type: 'data' }>, state: SmtpSessionState, deps: SmtpSessionDeps): Promise<void> {
  const { stream, session } = msg;
  const queueId = newQueueId();
  const base = { queueId, client: session.remoteAddress, from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', user: authenticatedUser(session) ?? undefined, ...tlsFields(session) };
  let recipients = queueRecipients(session, state);
  await deps.forwarder?.prepare?.(recipients);
  let split = deps.forwarder?.split(recipients) ?? null;
  let sink = new DataSink(deps.blobs, split !== null);
  sink.write(receivedHeader(session, deps.hostname, queueId));
  const completer = deps.submission && authenticatedUser(session) ? new SubmissionHeaders(deps.hostname, queueId) : null;
  const received = await receiveBody(stream, sink, completer).catch(async (err: unknown) => {
    await abandon(sink, deps, queueId);
    throw err;
  });
  if (received.connectionLost) {
    await abandon(sink, deps, queueId);
    deps.log.info({ ...base, result: 'abandoned', reason: received.connectionLost.message }, 'smtp transaction');
    msg.callback(received.connectionLost);
    return;
  }
  const refusal = received.storageFailure ? insufficientStorage() : refusalAfterData(stream, received.scan, deps);
  if (refusal) {
    await abandon(sink, deps, queueId);
    deps.log.info({ ...base, result: 'rejected', reason: refusal.message, err: received.storageFailure ?? undefined }, 'smtp transaction');
    msg.callback(refusal);
    return;
  }
  if (deps.hooks?.on.data) {
    const hooked = await dataHooks(deps.hooks, sink, session, deps.listener ?? 'mx', recipients.map((r) => r.address));
    if ('refusal' in hooked) {
      await abandon(sink, deps, queueId);
      deps.log.info({ ...base, result: 'rejected', reason: hooked.refusal.message }, 'smtp transaction');
      msg.callback(hooked.refusal);
      return;
    }
    sink = hooked.sink as DataSink;
  }
  const refused = deps.refuseRecipients ? await deps.refuseRecipients(state.recipients, sink.size) : null;
  if (refused && refused.size > 0) {
    for (const given of refused.keys()) state.recipients.delete(given);
    recipients = queueRecipients(session, state);
    split = narrowSplit(split, recipients);
    deps.log.info({ ...base, rcpts: [...refused.keys()], result: 'rejected', reason: [...refused.values()][0]!.message }, 'smtp transaction');
    if (recipients.length === 0) {
      await abandon(sink, deps, queueId);
      msg.callback(null, undefined, refused);
      return;
    }
  }
  try {
    await queueReceived(deps, sink, split, queueId, base, recipients);
  } catch (err) {
    if (!isStorageError(err)) throw err;
    deps.log.warn({ ...base, err, result: 'rejected', reason: 'storage' }, 'smtp transaction');
    msg.callback(insufficientStorage());
    return;
  }
  msg.callback(null, `2.0.0 Ok: queued as ${queueId}`, refused ?? undefined);
  if (deps.hooks?.on.queued) deps.hooks.observe('queued', { queueId, from: base.from, recipients: recipients.map((r) => r.address), size: sink.size, client: base.client });
}

/**
 * Reads DATA to its end into the sink. Once the disk refuses a write, the rest is
 * read and dropped (smtp-server needs the stream consumed to answer at the dot).
 */
async function receiveBody(stream: Extract<SmtpSessionMessage, { type: 'data' }>['stream'], sink: DataSink, completer: SubmissionHeaders | null) {
  const scan = new ReceivedCounter();
  let storageFailure: Error | null = null;
  let connectionLost: Error | null = null;
  const chunks = readChunks(stream, (err) => (connectionLost = err));
  for await (const chunk of chunks) {
    if (stream.sizeExceeded || storageFailure) continue;
    scan.feed(chunk);
    for (const piece of completer ? completer.feed(chunk) : [chunk]) sink.write(piece);
    try {
      await sink.backpressure();
    } catch (err) {
      if (!isStorageError(err)) throw err;
      storageFailure = err;
    }
  }
  if (completer && !storageFailure) for (const piece of completer.end()) sink.write(piece);
  return { scan, storageFailure, connectionLost: connectionLost as Error | null };
}

/** The stream's chunks; a stream destroyed with an error (the connection went away) just ends, reporting it. */
async function* readChunks(stream: Readable, onLost: (err: Error) => void): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    onLost(err as Error);
  }
}

function refusalAfterData(stream: { sizeExceeded?: boolean }, scan: ReceivedCounter, deps: SmtpSessionDeps): Error | null {
  if (stream.sizeExceeded) return smtpError(552, `5.3.4 Message size exceeds fixed limit of ${deps.maxMessageSize} bytes`);
  if (scan.count >= deps.maxReceivedHeaders) return smtpError(554, `5.4.6 Too many Received headers (${scan.count}): mail forwarding loop`);
  return null;
}

/** Drops what a refused message wrote; a disk too full even to delete leaves unreferenced chunks. */
async function abandon(sink: DataSink, deps: SmtpSessionDeps, queueId: string): Promise<void> {
  try {
    await sink.abort();
  } catch (err) {
    deps.log.warn({ err, queueId }, 'could not remove the chunks of a refused message');
  }
}

async function queueReceived(
  deps: SmtpSessionDeps, sink: DataSink, split: RecipientSplit | null, queueId: string,
  base: { queueId: string; client: string; from: string }, recipients: QueueRecipient[],
): Promise<void> {
  const envelope = { from: base.from, client: base.client };
  const rcpts = recipients.map((r) => r.original);
  if (sink.upload) {
    const { entry, deduplicated } = await queueUpload(deps, sink.upload, { id: queueId, ...envelope, recipients }, { mayRepeat: false });
    deps.log.info({ ...base, rcpts, size: entry.size, blob: entry.blob.slice(0, 16), dedup: deduplicated, result: 'queued' }, 'smtp transaction');
  } else {
    const nodes = await queueSplit(deps, queueId, envelope, split!, sink.body());
    deps.log.info({ ...base, rcpts, size: sink.size, nodes, result: 'queued' }, 'smtp transaction');
  }
}

/**
 * Queues each part of a message where its mailboxes are: on each other node (the
 * body sent once per node), and here for the rest, all at once. A part whose node is
 * gone or does not answer is queued here too, under the same part id and in the same
 * order; as both copies are delivered with the delivery-marker check, it is stored
 * once even if that node did queue it. Resolves (with the recipients per node) once
 * every part is on disk.
 */
async function queueSplit(
  deps: SmtpSessionDeps, queueId: string, envelope: Pick<NewQueueEntry, 'from' | 'client'>, split: RecipientSplit, body: Buffer,
): Promise<Record<number, number>> {
  const queueHere = (id: string, recipients: QueueRecipient[], mayRepeat: boolean) =>
    queueBody(deps, body, { id, ...envelope, recipients }, { mayRepeat });
  const nodes: Record<number, number> = {};
  await Promise.all([
    split.here.length > 0 ? queueHere(queueId, split.here, false) : null,
    ...[...split.elsewhere].map(async ([owner, recipients]) => {
      const id = partId(queueId, owner);
      try {
        await deps.forwarder!.enqueue(owner, { id, ...envelope, recipients }, body);
        nodes[owner] = recipients.length;
      } catch (err) {
        deps.log.warn({ err, queueId: id, node: owner }, 'forwarding to the mailbox node failed; queued here');
        await queueHere(id, recipients, true);
      }
    }),
  ]);
  return nodes;
}

/**
 * Where DATA goes: into a blob upload here, or, when parts of the message are queued
 * on other nodes, into memory (up to FORWARD_MAX_BYTES; a larger body falls back to an
 * upload here, and the whole message is queued here).
 */
class DataSink implements HookableSink {
  upload: BlobUpload | null = null;
  size = 0;
  private chunks: Buffer[] = [];

  constructor(private readonly blobs: BlobStore, inMemory: boolean) {
    if (!inMemory) this.upload = blobs.beginUpload();
  }

  write(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.upload) {
      this.upload.write(chunk);
      return;
    }
    this.chunks.push(chunk);
    if (this.size > FORWARD_MAX_BYTES) {
      this.upload = this.blobs.beginUpload();
      for (const held of this.chunks) this.upload.write(held);
      this.chunks = [];
    }
  }

  backpressure(): Promise<void> {
    return this.upload ? this.upload.backpressure() : Promise.resolve();
  }

  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }

  async abort(): Promise<void> {
    this.chunks = [];
    await this.upload?.abort();
  }

  /** The bytes written so far, for the data hooks (may be read more than once). */
  async *contents(): AsyncGenerator<Buffer> {
    if (this.upload) yield* this.upload.contents();
    else yield* this.chunks;
  }

  /** A plugin added header fields: the message again, with them on top, in a new sink; this one is dropped. */
  async withHeadersOnTop(block: Buffer): Promise<DataSink> {
    const next = new DataSink(this.blobs, this.upload === null);
    next.write(block);
    for await (const chunk of this.contents()) {
      next.write(chunk);
      await next.backpressure();
    }
    await this.abort();
    return next;
  }
}

function queueRecipients(session: SMTPServerSession, state: SmtpSessionState): QueueRecipient[] {
  const out: QueueRecipient[] = [];
  const seen = new Set<string>();
  for (const rcpt of session.envelope.rcptTo) {
    for (const target of state.recipients.get(rcpt.address) ?? []) {
      if (seen.has(target.address)) continue;
      seen.add(target.address);
      out.push({
        address: target.address, original: rcpt.address, kind: target.kind, state: 'pending',
        attempts: 0, nextAttempt: 0, lastError: null,
      });
    }
  }
  return out;
}

/** Counts Received: headers in the message header section, across chunk boundaries. */
class ReceivedCounter {
  count = 0;
  private inHeader = true;
  private carry = '';

  feed(chunk: Buffer): void {
    if (!this.inHeader) return;
    const text = this.carry + chunk.toString('latin1');
    const lines = text.split('\n');
    this.carry = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '' || line === '\r') {
        this.inHeader = false;
        return;
      }
      if (/^received:/i.test(line)) this.count += 1;
    }
    if (this.carry.length > 64 * 1024) this.carry = '';
  }
}
