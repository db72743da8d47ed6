// SMTP listeners (MX on the smtp port, submission with AUTH, optional SMTPS) built on
// smtp-server; each connection gets its own session actor under the listener.
import type net from 'node:net';
import { holdWritesUntilIdle } from '../core/write-batching.js';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { ServerSettings } from '../core/server-settings.js';
import type { NetSettings } from '../net/settings.js';
import type { StoreSettings } from '../store/settings.js';
import type { SmtpSettings } from './settings.js';
import { smtpError, type SmtpSessionDeps } from './session.js';
import { SessionTable } from './session-table.js';
import { DataDeadline } from './data-deadline.js';
import type { Directory } from '../directory/directory.js';
import type { ConnectionLimiter } from '../net/connection-limiter.js';
import type { AuthGate } from '../net/auth-guard.js';
import { checkLogin } from '../directory/guarded-login.js';
import { FreeSpaceGuard } from '../store/free-space.js';
import type { Adopter } from '../transport/handoff.js';
import type { TlsSource } from '../net/tls-material.js';
import { plaintextAuthAllowed } from '../net/plaintext-policy.js';
import { authHook, connectHook } from './listener-hooks.js';
import { RefusalLog } from './refusal-log.js';
import { countLogin } from '../core/metrics.js';

export interface SmtpListenerOptions {
  kind: 'mx' | 'submission' | 'smtps';
  port: number;
}

export interface RunningListener {
  port: number;
  close(): Promise<void>;
  /** Sessions open right now. */
  sessions?(): number;
  /** Takes over a connection another worker handed off after login: null, or why not (IMAP, POP3). */
  adopt?: Adopter;
  /** Serves a new connection accepted elsewhere (a node's peer port), as if accepted here (IMAP, POP3). */
  accept?: (socket: net.Socket) => void;
}

/** Passwords in the clear only over TLS, from loopback, or where the operator allows it (one rule for all listeners). */
export { plaintextAuthAllowed };

/**
 * smtp-server writes every reply on its own; a pipelined MAIL/RCPT/DATA gets three
 * sends. Replies written while handling one chunk of input leave together.
 */
function coalesceWrites(socket: net.Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    holdWritesUntilIdle(socket);
    return write(...args);
  }) as typeof socket.write;
}

/** The sections an SMTP listener reads. */
export interface SmtpListenerConfig { server: ServerSettings; net: NetSettings; smtp: SmtpSettings; store: StoreSettings }

export async function startSmtpListener(
  options: SmtpListenerOptions, config: SmtpListenerConfig, parent: Ref<unknown>,
  deps: Omit<SmtpSessionDeps, 'submission'>, directory: Directory, limiter: ConnectionLimiter, log: Logger,
  authGate: AuthGate,
  tlsSource: TlsSource | null = null,
): Promise<RunningListener> {
  const submission = options.kind !== 'mx';
  const sessionDeps: SmtpSessionDeps = { ...deps, submission, listener: options.kind, freeSpace: new FreeSpaceGuard(config.server.data, config.store.minFreeSpace) };
  /** Connections whose connect hooks are still running. */
  const connecting = new Set<string>();
  // smtp-server's own default would allow TLS 1.0; the shared options set the minimum.
  const tls = tlsSource ? { ...tlsSource.options } : {};

  const refusals = new RefusalLog(log.child({ proto: 'smtp' }), options.kind);
  const sessions = new SessionTable(parent, sessionDeps, limiter, log, `smtp-${options.kind}`);
  const openSession = (session: SMTPServerSession, callback: (err?: Error | null) => void) => {
    sessions.open(session);
    callback();
  };

  const serverOptions: SMTPServerOptions = {
    ...tls,
    secure: options.kind === 'smtps',
    name: config.server.hostname,
    banner: 'ternmail ESMTP',
    size: config.store.maxMessageSize,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !submission,
    // Without a certificate smtp-server would run STARTTLS with its own built-in one.
    disabledCommands: [...(submission ? [] : ['AUTH']), ...(tlsSource ? [] : ['STARTTLS'])],
    hideSTARTTLS: !tlsSource,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    maxRecipients: config.smtp.maxRecipients,
    maxCommandLength: config.smtp.maxLineLength,
    logger: refusals.logger,
    closeTimeout: 1000,
    onConnect(session, callback) {
      refusals.open(session);
      const refusal = limiter.acquire(session.remoteAddress, 'smtp');
      if (refusal === 'total') return callback(smtpError(421, '4.7.0 Too many connections'));
      if (refusal === 'address') return callback(smtpError(421, '4.7.0 Too many connections from your address'));
      if (deps.hooks?.on.connect) {
        // A connection that closes while its plugins decide is released by onClose, and not opened after.
        connecting.add(session.id);
        const settle = () => connecting.delete(session.id);
        return connectHook(deps.hooks, session, options.kind, () => settle() && openSession(session, callback), (err) => {
          if (settle()) limiter.release(session.remoteAddress, 'smtp');
          callback(err);
        });
      }
      openSession(session, callback);
    },
    onClose(session) {
      if (connecting.delete(session.id)) limiter.release(session.remoteAddress, 'smtp');
      sessions.close(session);
    },
    onAuth(auth, session, callback) {
      if (!plaintextAuthAllowed(session.secure, session.remoteAddress, config.net.allowPlaintextAuth)) {
        return callback(smtpError(538, '5.7.11 Encryption required for requested authentication mechanism'));
      }
      const username = auth.username ?? '';
      const context = { user: username, client: session.remoteAddress, proto: 'smtp', mechanism: auth.method };
      checkLogin(authGate, directory, session.remoteAddress, username, auth.password ?? '').then((verdict) => {
        countLogin('smtp', verdict.kind);
        if (verdict.kind === 'refused' && verdict.reason === 'address') {
          return callback(smtpError(421, '4.7.0 Too many failed authentications from your address'));
        }
        if (verdict.kind === 'refused') {
          log.info({ ...context, event: 'smtp.auth-locked' }, 'authentication refused: account locked');
          return callback(smtpError(454, '4.7.0 Too many failed logins, try again later'));
        }
        if (verdict.kind === 'bad-credentials') {
          log.warn({ ...context, event: 'smtp.login-failed' }, 'smtp login failed');
          return callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
        }
        log.info({ ...context, user: verdict.user.address }, 'authenticated');
        if (deps.hooks?.on.auth) return authHook(deps.hooks, verdict.user.address, session.remoteAddress, callback);
        callback(null, { user: verdict.user.address });
      }, (err) => {
        log.error({ err }, 'authentication error');
        callback(smtpError(454, '4.7.0 Temporary authentication failure'));
      });
    },
    onMailFrom(address, session, callback) {
      sessions.mailFrom(address, session, callback);
    },
    onRcptTo(address, session, callback) {
      sessions.rcptTo(address, session, callback);
    },
    onData(stream, session, callback) {
      sessions.data(stream, session, deadline.arm(stream, session, callback));
    },
  };

  const server = new SMTPServer(serverOptions);
  const deadline = new DataDeadline(() => server, config.smtp.dataTimeout, log, 'smtp');
  // STARTTLS and SMTPS alike take the server's current context at each upgrade.
  tlsSource?.onReload(() => server.updateSecureContext({ ...tlsSource.options }));
  server.on('error', (err) => log.warn({ err, listener: options.kind }, 'smtp connection error'));
  if (options.kind !== 'smtps') server.server.on('connection', coalesceWrites);
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, config.net.bind, () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  log.info({ listener: options.kind, port, bind: config.net.bind }, 'smtp listener started');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    sessions: () => sessions.size,
  };
}
