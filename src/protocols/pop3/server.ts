// The POP3 listener: accepts connections (plain with STLS, or implicit TLS for
// POP3S), enforces per-address connection limits, runs one Pop3Session per
// connection behind a crash boundary, and shuts sessions down cleanly on close.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '../../core/logger.js';
import type { Pop3Backend } from './backend.js';
import { fixedTlsSource, type TlsSource } from '../../net/tls-material.js';
import { err, renderResponse } from './responses.js';
import { Pop3Session, Pop3SessionFailedError, type Pop3SessionOptions } from './session.js';
import { metrics } from '../../core/metrics.js';

export interface Pop3ServerOptions extends Omit<Pop3SessionOptions, 'remoteAddress' | 'tlsActive' | 'stls' | 'handedOff'> {
  /** PEM key and certificate: enables STLS on a plain listener, required for implicitTls. */
  tls?: { key: Buffer; cert: Buffer };
  /** Shared, reloadable TLS material; wins over `tls`. */
  tlsSource?: TlsSource;
  /** POP3S: TLS from the first byte (RFC 8314). Default false. */
  implicitTls?: boolean;
  /** Concurrent connections from one address. Default 20. */
  maxConnectionsPerIp?: number;
  /** Concurrent connections in total. Default 10 000. */
  maxConnections?: number;
  /**
   * Connection slots counted outside this listener (shared with other protocols): when
   * given, it replaces maxConnectionsPerIp and maxConnections. acquire takes a slot or
   * says why not; release gives it back when the session ends.
   */
  connections?: { acquire(address: string): string | undefined; release(address: string): void };
  /** How long close() lets sessions finish their current command. Default 10 000 ms. */
  shutdownGraceMs?: number;
  /**
   * Owns one session's lifetime, e.g. inside a supervised actor. It must call
   * session.run() and settle when that settles. If it rejects, the server logs the
   * error and calls session.abort(), which sends "-ERR [SYS/TEMP] internal error"
   * and closes the connection. Default: (session) => session.run().
   */
  runSession?: (session: Pop3Session, socket: net.Socket) => Promise<void>;
}

export interface Pop3Server {
  /** Starts accepting; port 0 picks a free port. */
  listen(port: number, host?: string): Promise<{ port: number }>;
  /**
   * Serves a plain connection another process handed over after `userId` logged in
   * there; `pending` is what the client sent since. Null, or why it was refused.
   */
  adopt(socket: net.Socket, userId: string, remoteAddress: string, pending: Buffer): string | null;
  /** Serves a new connection accepted by another server of this process (a node's peer port). */
  accept(socket: net.Socket): void;
  /** Stops accepting, tells open sessions the server is shutting down, and waits for them. */
  close(): Promise<void>;
  /** Sessions currently open. */
  readonly sessionCount: number;
}

export const POP3_SERVER_DEFAULTS = {
  implicitTls: false,
  maxConnectionsPerIp: 20,
  maxConnections: 10_000,
  shutdownGraceMs: 10_000,
} as const;

export function createPop3Server(options: Pop3ServerOptions, backend: Pop3Backend, logger: Logger): Pop3Server {
  return new Pop3Listener(options, backend, logger.child({ component: 'pop3-server' }));
}

class Pop3Listener implements Pop3Server {
  private readonly server: net.Server;
  private readonly sessions = new Set<Pop3Session>();
  private readonly connectionsByAddress = new Map<string, number>();
  private readonly tlsSource: TlsSource | undefined;
  private closing = false;

  constructor(
    private readonly options: Pop3ServerOptions,
    private readonly backend: Pop3Backend,
    private readonly log: Logger,
  ) {
    this.tlsSource = options.tlsSource ?? (options.tls === undefined ? undefined : fixedTlsSource(options.tls));
    this.server = this.createSocketServer();
    this.server.on('error', (error) => this.log.error({ err: error }, 'pop3 listener error'));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  listen(port: number, host?: string): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as net.AddressInfo;
        this.log.info({ event: 'pop3.listen', port: address.port, host, implicitTls: this.implicitTls }, 'pop3 listening');
        resolve({ port: address.port });
      });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.sessions].map((session) => this.shutdownSession(session)));
    await stopped;
  }

  private get implicitTls(): boolean {
    return this.options.implicitTls ?? POP3_SERVER_DEFAULTS.implicitTls;
  }

  private createSocketServer(): net.Server {
    if (!this.implicitTls) {
      return net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    }
    const source = this.tlsSource;
    if (source === undefined) throw new Error('pop3: implicitTls needs options.tls (key and cert)');
    const server = tls.createServer({ ...source.options, allowHalfOpen: true });
    source.onReload(() => server.setSecureContext({ ...source.options }));
    server.on('secureConnection', (socket) => this.accept(socket));
    server.on('tlsClientError', (error) => this.log.debug({ err: error }, 'pop3s TLS handshake failed'));
    return server;
  }

  accept(socket: net.Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const refusal = this.refusal(address);
    if (refusal !== undefined) {
      this.refuse(socket, address, refusal);
      return;
    }
    socket.setNoDelay(true);
    const session = new Pop3Session(socket, this.backend, this.log, this.sessionOptions(address, socket));
    metrics.sessions.inc({ proto: 'pop3' });
    this.track(session, address);
    void this.runGuarded(session, socket);
  }

  adopt(socket: net.Socket, userId: string, remoteAddress: string, pending: Buffer): string | null {
    const refusal = this.refusal(remoteAddress);
    if (refusal !== undefined) return refusal;
    socket.setNoDelay(true);
    const options = { ...this.sessionOptions(remoteAddress, socket), handedOff: { userId, pending } };
    const session = new Pop3Session(socket, this.backend, this.log, options);
    this.track(session, remoteAddress);
    void this.runGuarded(session, socket);
    return null;
  }

  private refusal(address: string): string | undefined {
    if (this.closing) return 'server shutting down';
    if (this.options.connections) return this.options.connections.acquire(address);
    const limitPerIp = this.options.maxConnectionsPerIp ?? POP3_SERVER_DEFAULTS.maxConnectionsPerIp;
    const limit = this.options.maxConnections ?? POP3_SERVER_DEFAULTS.maxConnections;
    if (this.sessions.size >= limit) return 'too many connections';
    if ((this.connectionsByAddress.get(address) ?? 0) >= limitPerIp) return 'too many connections from your address';
    return undefined;
  }

  private refuse(socket: net.Socket, address: string, reason: string): void {
    this.log.warn({ event: 'pop3.connection-refused', client: address, reason }, 'pop3 connection refused');
    socket.on('error', () => undefined);
    socket.end(renderResponse(err(reason, 'SYS/TEMP')));
    setTimeout(() => socket.destroy(), 5000).unref();
  }

  private sessionOptions(address: string, socket: net.Socket): Pop3SessionOptions {
    const o = this.options;
    const sessionOptions: Pop3SessionOptions = {
      remoteAddress: address,
      tlsActive: socket instanceof tls.TLSSocket,
      allowPlaintextAuth: o.allowPlaintextAuth,
      maxLineLength: o.maxLineLength,
      maxFailedAuths: o.maxFailedAuths,
      authFailureDelayMs: o.authFailureDelayMs,
      idleTimeoutMs: o.idleTimeoutMs,
      loginTimeoutMs: o.loginTimeoutMs,
      maxWriteBufferBytes: o.maxWriteBufferBytes,
      writeStallTimeoutMs: o.writeStallTimeoutMs,
      tlsHandshakeTimeoutMs: o.tlsHandshakeTimeoutMs,
      implementation: o.implementation,
    };
    const source = this.tlsSource;
    // STLS takes the context current when the client asks, even after a reload.
    if (source !== undefined && !this.implicitTls) sessionOptions.stls = { get secureContext() { return source.context; } };
    return sessionOptions;
  }

  private track(session: Pop3Session, address: string): void {
    this.sessions.add(session);
    const shared = this.options.connections;
    if (shared) {
      void session.closed.then(() => {
        this.sessions.delete(session);
        shared.release(address);
      });
      return;
    }
    this.connectionsByAddress.set(address, (this.connectionsByAddress.get(address) ?? 0) + 1);
    void session.closed.then(() => {
      this.sessions.delete(session);
      const left = (this.connectionsByAddress.get(address) ?? 1) - 1;
      if (left > 0) this.connectionsByAddress.set(address, left);
      else this.connectionsByAddress.delete(address);
    });
  }

  /** The crash boundary: nothing thrown by one session reaches the process. */
  private async runGuarded(session: Pop3Session, socket: net.Socket): Promise<void> {
    const runSession = this.options.runSession ?? ((s: Pop3Session) => s.run());
    try {
      await runSession(session, socket);
    } catch (error) {
      if (error instanceof Pop3SessionFailedError) return; // already logged, answered and closed
      this.log.error({ err: error, session: session.id }, 'pop3 session supervisor failed');
      await session.abort(error);
    }
  }

  private async shutdownSession(session: Pop3Session): Promise<void> {
    const graceMs = this.options.shutdownGraceMs ?? POP3_SERVER_DEFAULTS.shutdownGraceMs;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const outcome = await Promise.race([session.shutdown().then(() => 'done' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'late') await session.abort(new Error('session did not finish within the shutdown grace period'));
  }
}
