// The IMAP listener: plain (with STARTTLS when a certificate is configured) or implicit
// TLS (IMAPS); per-address connection limits; one session actor per connection, whose
// crash closes only that connection. close() sends `* BYE server shutting down`.
import net from 'node:net';
import tls from 'node:tls';
import type { Ref } from 'nact';
import type { NetSettings } from '../net/settings.js';
import type { StoreSettings } from '../store/settings.js';
import type { ImapSettings } from './settings.js';
import { ImapSession, type SessionMessage } from './session.js';
import { IMAP_LIMITS, type ImapSessionDeps } from './deps.js';
import { dispatch, stop } from '../core/supervision.js';
import { defineActor, spawnActor } from '../core/actor.js';
import type { RunningListener } from '../smtp/listener.js';
import type { HandoffState } from '../transport/handoff.js';
import { literalBudgetOf } from './literal-budget.js';
import { MailboxBackend, type MailboxBackendServices } from './mailbox-backend.js';
import type { TlsSource } from '../net/tls-material.js';
import { metrics } from '../core/metrics.js';

export interface ImapListenerOptions {
  port: number;
  implicitTls: boolean;
}

/** What the server gives the listener: the services the backend is built over, and connection policy. */
export type ImapListenerDeps = MailboxBackendServices
  & Omit<ImapSessionDeps, 'backend' | 'limits' | 'allowPlaintextAuth' | 'secureContext' | 'literalBudget'>;

const SHUTDOWN_GRACE_MS = 2000;

/** The sections an IMAP listener reads. */
export interface ImapListenerConfig { imap: ImapSettings; net: NetSettings; store: StoreSettings }

export async function startImapListener(
  options: ImapListenerOptions, config: ImapListenerConfig, parent: Ref<unknown>, deps: ImapListenerDeps,
  tlsSource: TlsSource | null = null,
): Promise<RunningListener> {
  if (options.implicitTls && !tlsSource) throw new Error('imaps: implicit TLS needs tls.key and tls.cert');
  const sessionDeps: ImapSessionDeps = {
    backend: new MailboxBackend(deps),
    limiter: deps.limiter,
    log: deps.log,
    ...(deps.handoff ? { handoff: deps.handoff } : {}),
    limits: {
      ...IMAP_LIMITS,
      idleTimeoutMs: config.imap.idleTimeout * 1000,
      loginTimeoutMs: config.imap.loginTimeout * 1000,
      maxSearchKeys: config.imap.maxSearchKeys,
      outputBufferBytes: config.imap.outputBuffer,
      outputStallMs: config.imap.outputStall * 1000,
      maxLineLength: config.imap.maxLineLength,
      maxLiteralSize: config.imap.maxLiteralSize,
      maxAppendSize: config.store.maxMessageSize,
      literalPlus: config.imap.literalPlus,
    },
    allowPlaintextAuth: config.net.allowPlaintextAuth,
    literalBudget: literalBudgetOf(config.imap),
  };
  // STARTTLS reads the context when a client asks, so it is always the current one.
  if (tlsSource && !options.implicitTls) Object.defineProperty(sessionDeps, 'secureContext', { get: () => tlsSource.context, enumerable: true });
  const sessions = new Map<ImapSession, Ref<SessionMessage>>();
  let count = 0;
  let closing = false;
  const log = deps.log;

  const accept = (socket: net.Socket): void => {
    const address = socket.remoteAddress ?? 'unknown';
    socket.on('error', () => undefined);
    if (closing) {
      socket.end('* BYE server shutting down\r\n');
      return;
    }
    const refusal = deps.limiter.acquire(address, 'imap');
    if (refusal !== null) {
      log.warn({ client: address, refusal }, 'imap connection refused: too many connections');
      socket.end(refusal === 'total' ? '* BYE Too many connections\r\n' : '* BYE Too many connections from your address\r\n');
      return;
    }
    const { session, ref } = serve(socket, address);
    session.attach(ref);
  };

  /** A logged-in connection another worker handed off: continues without a greeting. */
  const adopt = (socket: net.Socket, state: HandoffState): string | null => {
    if (closing) return 'imap listener closing';
    const user = deps.directory.cache.user(state.user);
    if (user === undefined) return `unknown user ${state.user}`;
    const refusal = deps.limiter.acquire(state.remoteAddress, 'imap');
    if (refusal !== null) return refusal === 'total' ? 'too many imap connections' : 'too many connections from this address';
    socket.on('error', () => undefined);
    const { session, ref } = serve(socket, state.remoteAddress);
    session.attachHandedOff(ref, user, Buffer.from(state.pending, 'base64'));
    return null;
  };

  /** A session actor for a connection whose limiter slot is taken; the slot is freed when it ends. */
  const serve = (socket: net.Socket, address: string): { session: ImapSession; ref: Ref<SessionMessage> } => {
    socket.setNoDelay(true);
    const session = new ImapSession(socket, sessionDeps);
    metrics.sessions.inc({ proto: 'imap' });
    const ref = spawnSessionActor(parent, `imap-${options.implicitTls ? 's' : ''}${++count}`, session, log);
    sessions.set(session, ref);
    void session.closed.then(() => {
      sessions.delete(session);
      deps.limiter.release(address, 'imap');
      stop(ref);
    });
    return { session, ref };
  };

  const server = options.implicitTls && tlsSource
    ? implicitTlsServer(tlsSource, accept, log)
    : net.createServer(accept);
  server.on('error', (err) => log.error({ err }, 'imap listener error'));
  const port = await listen(server, options.port, config.net.bind);
  log.info({ port, implicitTls: options.implicitTls }, 'imap listening');

  return {
    port,
    sessions: () => sessions.size,
    adopt,
    accept,
    async close() {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ref of sessions.values()) dispatch(ref, { type: 'shutdown' });
      await Promise.race([
        Promise.all([...sessions.keys()].map((session) => session.closed)),
        new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref()),
      ]);
      for (const session of sessions.keys()) session.destroy();
      await stopped;
    },
  };
}

function spawnSessionActor(parent: Ref<unknown>, name: string, session: ImapSession, log: ImapListenerDeps['log']): Ref<SessionMessage> {
  const sessionActor = defineActor({
    what: 'imap session',
    handle: async (state: undefined, message: SessionMessage) => {
      await session.handle(message);
      return state;
    },
    restart: { strategy: 'stop' },
    reportCrash: (_message, _self, err) => session.abort(err),
  });
  return spawnActor(parent, sessionActor, name, log);
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** IMAPS: new handshakes use the current certificate once it is reloaded; open sessions keep theirs. */
function implicitTlsServer(source: TlsSource, accept: (socket: net.Socket) => void, log: ImapListenerDeps['log']): tls.Server {
  const server = tls.createServer({ ...source.options }, accept);
  server.on('tlsClientError', (err) => log.debug({ err }, 'imaps handshake failed'));
  source.onReload(() => server.setSecureContext({ ...source.options }));
  return server;
}
