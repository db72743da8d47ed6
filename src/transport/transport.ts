// The transport between node processes: request/reply messages encoded with msgpackr,
// length-prefixed frames over unix domain sockets. One interface, so that a NATS
// transport can replace it for nodes on other machines; nothing above it may assume
// the peer shares a disk or memory with us.
import net from 'node:net';
import { rmSync } from 'node:fs';
import { Packr, RESERVE_START_SPACE } from 'msgpackr';
import { holdWritesUntilIdle } from '../core/write-batching.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const MAX_FRAME = 128 * 1024 * 1024;

export interface NodeTransport {
  /** Sends a request to a node and waits for its reply. */
  request<Res>(node: number, body: unknown, timeoutMs?: number): Promise<Res>;
  close(): Promise<void>;
}

export type RequestHandler = (body: unknown, from: number) => Promise<unknown>;

interface Frame {
  id: number;
  kind: 'req' | 'res' | 'err' | 'hello';
  from?: number;
  body?: unknown;
  error?: string;
}

export class TransportError extends Error {}

/** Splits a byte stream into frames: 4-byte big-endian length + msgpack. */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length > MAX_FRAME) throw new TransportError(`frame of ${length} bytes exceeds the limit`);
      if (this.buffer.length < 4 + length) return;
      const frame = packr.unpack(this.buffer.subarray(4, 4 + length)) as Frame;
      this.buffer = this.buffer.subarray(4 + length);
      onFrame(frame);
    }
  }
}

/** The frame is packed behind four reserved bytes that take its length: a forwarded body is copied once, not twice. */
function encode(frame: Frame): Buffer {
  const out = packr.pack(frame, RESERVE_START_SPACE | 4);
  out.writeUInt32BE(out.length - 4, 0);
  return out;
}

/** Frames written in one turn of the event loop leave in one send. */
function sendFrame(socket: net.Socket, frame: Frame): void {
  holdWritesUntilIdle(socket);
  socket.write(encode(frame));
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One outgoing connection to a peer node, with its requests in flight. */
class PeerConnection {
  private socket: net.Socket | null = null;
  private connecting: Promise<net.Socket> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly path: string, private readonly self: number) {}

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect(this.path);
      const reader = new FrameReader();
      socket.once('connect', () => {
        this.socket = socket;
        this.connecting = null;
        socket.write(encode({ id: 0, kind: 'hello', from: this.self }));
        resolve(socket);
      });
      socket.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk, (frame) => this.settle(frame));
        } catch (err) {
          socket.destroy(err as Error);
        }
      });
      socket.once('error', (err) => {
        this.connecting = null;
        reject(new TransportError(`cannot reach ${this.path}: ${err.message}`));
      });
      socket.once('close', () => {
        this.socket = null;
        this.failAll(new TransportError(`connection to ${this.path} closed`));
      });
    });
    return this.connecting;
  }

  private settle(frame: Frame): void {
    const pending = this.pending.get(frame.id);
    if (!pending) return;
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.kind === 'err') pending.reject(new TransportError(frame.error ?? 'remote error'));
    else pending.resolve(frame.body);
  }

  private failAll(err: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
      this.pending.delete(id);
    }
  }

  async request(body: unknown, timeoutMs: number): Promise<unknown> {
    const socket = await this.connect();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TransportError(`request to ${this.path} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      sendFrame(socket, { id, kind: 'req', body });
    });
  }

  close(): void {
    this.socket?.destroy();
    this.failAll(new TransportError('transport closed'));
  }
}

/** Unix-socket transport: serves this node's socket and connects to peers on demand. */
export class UnixSocketTransport implements NodeTransport {
  private readonly server: net.Server;
  private readonly peers = new Map<number, PeerConnection>();
  private readonly inbound = new Set<net.Socket>();

  constructor(
    private readonly self: number,
    private readonly socketPath: (node: number) => string,
    handler: RequestHandler,
  ) {
    this.server = net.createServer((socket) => this.accept(socket, handler));
  }

  async listen(): Promise<void> {
    const path = this.socketPath(this.self);
    rmSync(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => resolve());
    });
  }

  private accept(socket: net.Socket, handler: RequestHandler): void {
    this.inbound.add(socket);
    socket.once('close', () => this.inbound.delete(socket));
    socket.on('error', () => undefined);
    const reader = new FrameReader();
    let from = -1;
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (frame) => {
          if (frame.kind === 'hello') {
            from = frame.from ?? -1;
            return;
          }
          if (frame.kind !== 'req') return;
          handler(frame.body, from).then(
            (body) => socket.writable && sendFrame(socket, { id: frame.id, kind: 'res', body }),
            (err: Error) => socket.writable && sendFrame(socket, { id: frame.id, kind: 'err', error: err.message }),
          );
        });
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
  }

  request<Res>(node: number, body: unknown, timeoutMs = 30_000): Promise<Res> {
    let peer = this.peers.get(node);
    if (!peer) {
      peer = new PeerConnection(this.socketPath(node), this.self);
      this.peers.set(node, peer);
    }
    return peer.request(body, timeoutMs) as Promise<Res>;
  }

  async close(): Promise<void> {
    for (const peer of this.peers.values()) peer.close();
    for (const socket of this.inbound) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
