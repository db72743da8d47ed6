// Connection handoff: after login, an IMAP or POP3 connection on a worker that does not
// hold the user's mailbox moves to the worker that does, so the session runs next to
// its data instead of crossing the transport for every request. The TCP socket itself
// goes over Node IPC: origin worker → primary (relay) → owner worker, whose listener
// adopts it; the owner's answer comes back the same way.
//
// Failure rule: the origin keeps its own copy of the socket until the owner confirms
// it serves the connection. Any refusal (owner not running, gone before it answered,
// listener closing, user unknown there, connection limit) comes back as "not adopted"
// and the origin simply resumes reading and serves the session itself over the remote
// path. Only when no answer arrives at all (HANDOFF_TIMEOUT_MS: the primary or the
// owner is stuck) does the origin give the connection up: the client sees it close and
// reconnects. Two processes never serve one connection.
import net from 'node:net';
import tls from 'node:tls';
import type { Worker } from 'node:cluster';
import type { Logger } from '../core/logger.js';
import { metrics } from '../core/metrics.js';

export type HandoffProtocol = 'imap' | 'pop3';

/** What the owner needs to continue a session. Never credentials: only who logged in. */
export interface HandoffState {
  protocol: HandoffProtocol;
  /** The authenticated user's address; the owner looks it up in its own directory replica. */
  user: string;
  remoteAddress: string;
  /** Bytes the origin read from the client and did not process yet (pipelined commands), base64. */
  pending: string;
}

/** Sent with the socket's handle: worker → primary → owner. */
export interface HandoffRequest {
  type: 'ternmail-handoff';
  id: string;
  from: number;
  to: number;
  state: HandoffState;
}

/** The owner's answer (or the primary's, when the owner never got the socket): → primary → origin. */
export interface HandoffResult {
  type: 'ternmail-handoff-result';
  id: string;
  from: number;
  to: number;
  adopted: boolean;
  reason?: string;
}

export type HandoffMessage = HandoffRequest | HandoffResult;

/** A listener taking over a connection: null when it serves it, otherwise why not. */
export type Adopter = (socket: net.Socket, state: HandoffState) => string | null;

/** A logged-in session offering its connection to the mailbox's owner. */
export interface HandoffOffer {
  protocol: HandoffProtocol;
  socket: net.Socket;
  user: string;
  mailboxId: string;
  remoteAddress: string;
  /** The client's bytes read and not processed; null when they cannot be passed on (mid-command). */
  unread(): Buffer | null;
}

/**
 * What became of an offered connection: `false`, it stays with this session; `moved`,
 * another process of this machine now owns the descriptor (end the session without
 * writing, destroy this copy); `relayed`, its bytes are now relayed to the mailbox's
 * node on another machine (end the session without writing, but leave the socket
 * open: the relay closes it).
 */
export type HandoffOutcome = false | 'moved' | 'relayed';

/** What a session sees of the mechanism. */
export interface ConnectionHandoff {
  offer(offer: HandoffOffer): Promise<HandoffOutcome>;
}

/**
 * The raw libuv handle under a socket. It is what travels over IPC: a net.Socket would
 * arrive in the primary wrapped in a new Socket that starts reading, and bytes read
 * there before the relay closes its copy would be lost.
 */
interface StreamHandle {
  reading: boolean;
  readStop(): number;
  readStart(): number;
  close(): void;
}

function handleOf(socket: net.Socket): StreamHandle {
  return (socket as unknown as { _handle: StreamHandle })._handle;
}

/** A socket for a handle received over IPC (`handle` is an undocumented Socket option). */
function socketFor(handle: StreamHandle): net.Socket {
  return new net.Socket({ handle, readable: true, writable: true } as net.SocketConstructorOpts);
}

const HANDOFF_TIMEOUT_MS = 10_000;

export function isHandoffMessage(message: unknown): message is HandoffMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'ternmail-handoff' || type === 'ternmail-handoff-result';
}

/** Resolves once everything written to the socket is in the kernel. */
function flushed(socket: net.Socket): Promise<void> {
  while (socket.writableCorked > 0) socket.uncork();
  if (socket.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => socket.write(Buffer.alloc(0), () => resolve()));
}

/**
 * Stops reading at the source: pause() alone lets libuv keep reading into the stream.
 * What the stream already buffered is emitted to its 'data' listeners first, so the
 * session holds every byte read. Returns the function that starts reading again.
 */
function suspendReading(socket: net.Socket): () => void {
  const wasFlowing = socket.readableFlowing === true;
  socket.pause();
  while (socket.read() !== null) {
    // each chunk went to the 'data' listeners
  }
  const handle = handleOf(socket);
  handle.readStop();
  // Node must believe it is still reading, or a read() would start the handle again.
  handle.reading = true;
  return () => {
    handle.readStart();
    if (wasFlowing) socket.resume();
  };
}

/** A worker's side: offers connections to their mailbox's owner, and adopts those offered to it. */
export class SessionHandoff implements ConnectionHandoff {
  private nextId = 0;
  private readonly waiting = new Map<string, (result: HandoffResult) => void>();
  private readonly adopters = new Map<HandoffProtocol, Adopter>();

  constructor(
    private readonly self: number,
    /** Workers of this cluster running the access role (IMAP and POP3 listeners). */
    private readonly accessNodes: ReadonlySet<number>,
    private readonly ownerOf: (mailboxId: string) => number | undefined,
    private readonly log: Logger,
  ) {
    process.on('message', (message: unknown, handle: unknown) => {
      if (isHandoffMessage(message)) this.onMessage(message, handle as StreamHandle | undefined);
    });
  }

  /** The listener that takes over `protocol` connections offered to this worker. */
  accept(protocol: HandoffProtocol, adopter: Adopter): void {
    this.adopters.set(protocol, adopter);
  }

  /** The worker that should serve this mailbox's sessions, or null to serve them here. */
  targetFor(mailboxId: string): number | null {
    const owner = this.ownerOf(mailboxId);
    if (owner === undefined || owner === this.self || !this.accessNodes.has(owner)) return null;
    return owner;
  }

  async offer(offer: HandoffOffer): Promise<HandoffOutcome> {
    const to = this.targetFor(offer.mailboxId);
    const { socket } = offer;
    // TLS state cannot move with the descriptor; those sessions stay on the remote path.
    if (to === null || socket instanceof tls.TLSSocket || !process.send) return false;
    await flushed(socket);
    if (socket.destroyed) return false;
    const resumeReading = suspendReading(socket);
    const pending = offer.unread();
    if (pending === null) {
      resumeReading();
      return false;
    }
    const state: HandoffState = { protocol: offer.protocol, user: offer.user, remoteAddress: offer.remoteAddress, pending: pending.toString('base64') };
    const context = { protocol: offer.protocol, user: offer.user, client: offer.remoteAddress, clientPort: socket.remotePort, from: this.self, to };
    const result = await this.send(to, state, handleOf(socket));
    if (result === null) {
      this.log.warn(context, `${offer.protocol} handoff unanswered; closing the connection`);
      metrics.handoffs.inc({ result: 'unanswered' });
      return 'moved';
    }
    if (!result.adopted) {
      this.log.info({ ...context, reason: result.reason }, `${offer.protocol} handoff refused; serving the session here`);
      metrics.handoffs.inc({ result: 'refused' });
      resumeReading();
      return false;
    }
    this.log.info(context, `${offer.protocol} session handed off`);
    metrics.handoffs.inc({ result: 'moved' });
    return 'moved';
  }

  /** The owner's answer, or null when none came in time. */
  private send(to: number, state: HandoffState, handle: StreamHandle): Promise<HandoffResult | null> {
    const request: HandoffRequest = { type: 'ternmail-handoff', id: `${this.self}.${++this.nextId}`, from: this.self, to, state };
    return new Promise((resolve) => {
      const settle = (result: HandoffResult | null): void => {
        clearTimeout(timer);
        this.waiting.delete(request.id);
        resolve(result);
      };
      const timer = setTimeout(() => settle(null), HANDOFF_TIMEOUT_MS);
      this.waiting.set(request.id, settle);
      process.send!(request, handle as never, {}, (err: Error | null) => {
        if (err) settle(resultOf(request, false, `not sent to the primary: ${err.message}`));
      });
    });
  }

  private onMessage(message: HandoffMessage, handle: StreamHandle | undefined): void {
    if (message.type === 'ternmail-handoff-result') {
      this.waiting.get(message.id)?.(message);
      return;
    }
    const refusal = this.adopt(message, handle);
    process.send?.(resultOf(message, refusal === null, refusal ?? undefined));
  }

  private adopt(request: HandoffRequest, handle: StreamHandle | undefined): string | null {
    if (handle === undefined) return 'no socket received';
    const adopter = this.adopters.get(request.state.protocol);
    if (adopter === undefined) {
      handle.close();
      return `no ${request.state.protocol} listener on node ${this.self}`;
    }
    const socket = socketFor(handle);
    let refusal: string | null;
    try {
      refusal = adopter(socket, request.state);
    } catch (err) {
      this.log.error({ err, from: request.from }, 'adopting a handed-off connection failed');
      refusal = 'adoption failed';
    }
    // Only this worker's copy of the descriptor: the origin still serves the connection.
    if (refusal !== null) socket.destroy();
    else this.log.debug({ protocol: request.state.protocol, user: request.state.user, from: request.from }, 'handed-off session adopted');
    return refusal;
  }
}

function resultOf(request: HandoffRequest, adopted: boolean, reason?: string): HandoffResult {
  const result: HandoffResult = { type: 'ternmail-handoff-result', id: request.id, from: request.from, to: request.to, adopted };
  if (reason !== undefined) result.reason = reason;
  return result;
}

/**
 * The primary's side: relays a socket from its origin to the owner and the owner's
 * answer back. It answers "not adopted" itself when the owner is not running, the
 * send fails, or the owner exits before answering.
 */
export class HandoffRelay {
  private readonly inFlight = new Map<string, HandoffRequest>();

  constructor(
    /** The worker process of a node that is running (ready to adopt), else undefined. */
    private readonly runningWorker: (node: number) => Worker | undefined,
    /** The worker process of a node in any state. */
    private readonly workerOf: (node: number) => Worker | undefined,
    private readonly log: Logger,
  ) {}

  /** A message from a worker: handoff messages are relayed, other messages left to the caller. */
  handle(message: unknown, handle: unknown): boolean {
    if (!isHandoffMessage(message)) return false;
    if (message.type === 'ternmail-handoff') this.forward(message, handle as StreamHandle | undefined);
    else this.answer(message);
    return true;
  }

  /** A worker exited: handoffs it had not answered go back to their origins as not adopted. */
  nodeExited(node: number): void {
    for (const request of this.inFlight.values()) {
      if (request.to === node) this.answer(resultOf(request, false, `node ${node} exited`));
    }
  }

  private forward(request: HandoffRequest, handle: StreamHandle | undefined): void {
    if (handle === undefined) {
      this.answer(resultOf(request, false, 'no socket received'));
      return;
    }
    const target = this.runningWorker(request.to);
    if (target === undefined) {
      handle.close();
      this.answer(resultOf(request, false, `node ${request.to} is not running`));
      return;
    }
    this.inFlight.set(request.id, request);
    target.send(request, handle as never, (err: Error | null) => {
      // Once sent, the owner holds its own descriptor; the relay's copy is never used.
      handle.close();
      if (err) this.answer(resultOf(request, false, `not sent to node ${request.to}: ${err.message}`));
    });
  }

  private answer(result: HandoffResult): void {
    this.inFlight.delete(result.id);
    const origin = this.workerOf(result.from);
    if (origin === undefined || !origin.isConnected()) return;
    origin.send(result, (err: Error | null) => {
      if (err) this.log.warn({ err, from: result.from, to: result.to }, 'handoff answer not delivered');
    });
  }
}
