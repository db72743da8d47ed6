// The LMTP listener (RFC 2033): an MTA already in place (Postfix, Exim) hands mail for
// local users to ternmail's store, as it would to Dovecot's LMTP, while an ISP
// migrates. A session is the SMTP MX session actor (same recipient checks, same
// synced queue write before any 250) behind smtp-server's LMTP mode: LHLO instead of
// EHLO, no AUTH, no relaying, and after DATA one reply per accepted recipient, each
// with its own outcome (one over quota gets 552 5.2.2, the others 250 once queued).
// DATA has the SMTP listeners' deadline (`smtp.dataTimeout`).
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { ServerSettings } from '../core/server-settings.js';
import type { StoreSettings } from '../store/settings.js';
import type { SmtpSettings } from '../smtp/settings.js';
import type { LmtpSettings } from './settings.js';
import { smtpError, type Callback, type SmtpSessionDeps } from '../smtp/session.js';
import { SessionTable } from '../smtp/session-table.js';
import type { RunningListener } from '../smtp/listener.js';
import type { ConnectionLimiter } from '../net/connection-limiter.js';
import { FreeSpaceGuard } from '../store/free-space.js';
import { RefusalLog } from '../smtp/refusal-log.js';
import { DataDeadline } from '../smtp/data-deadline.js';
import { overQuotaAfterData } from './recipient-quota.js';

export interface LmtpListenerConfig { server: ServerSettings; smtp: SmtpSettings; store: StoreSettings; lmtp: LmtpSettings }

/** An address the store does not hold is final for LMTP: the MTA bounces it (not "relay denied"). */
function notLocal(callback: Callback): Callback {
  return (err, message) => {
    const code = (err as { responseCode?: number } | null | undefined)?.responseCode;
    if (err && code === 554) return callback(smtpError(550, err.message.replace(/Relay access denied/, 'not a local address').replace(/^5\.7\.1/, '5.1.1')));
    callback(err, message);
  };
}

/** After DATA: one reply per recipient (RFC 2033 section 4.2): its own refusal, or the queued answer with its address. */
function perRecipient(session: SMTPServerSession, callback: (err?: Error | null, message?: string | Array<string | Error>) => void): Callback {
  return (err, message, refused) => {
    if (err) return callback(err);
    callback(null, session.envelope.rcptTo.map((rcpt) => refused?.get(rcpt.address) ?? `2.1.5 <${rcpt.address}> ${message ?? 'Ok'}`));
  };
}

export async function startLmtpListener(
  config: LmtpListenerConfig, parent: Ref<unknown>, deps: Omit<SmtpSessionDeps, 'submission'>, limiter: ConnectionLimiter, log: Logger,
): Promise<RunningListener> {
  const sessionDeps: SmtpSessionDeps = {
    ...deps, submission: false, log: deps.log, freeSpace: new FreeSpaceGuard(config.server.data, config.store.minFreeSpace),
    refuseRecipients: overQuotaAfterData(deps.mailboxes),
  };
  const sessions = new SessionTable(parent, sessionDeps, limiter, log, 'lmtp');
  const refusals = new RefusalLog(log.child({ proto: 'lmtp' }), 'lmtp');

  const options: SMTPServerOptions = {
    lmtp: true,
    name: config.server.hostname,
    banner: 'ternmail LMTP',
    size: config.store.maxMessageSize,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    maxRecipients: config.smtp.maxRecipients,
    maxCommandLength: config.smtp.maxLineLength,
    logger: refusals.logger,
    closeTimeout: 1000,
    onConnect(session, callback) {
      refusals.open(session);
      const refusal = limiter.acquire(session.remoteAddress, 'smtp');
      if (refusal) return callback(smtpError(421, '4.7.0 Too many connections'));
      sessions.open(session);
      callback();
    },
    onClose(session) {
      sessions.close(session);
    },
    onMailFrom(address, session, callback) {
      sessions.mailFrom(address, session, callback);
    },
    onRcptTo(address, session, callback) {
      sessions.rcptTo(address, session, notLocal(callback));
    },
    onData(stream, session, callback) {
      sessions.data(stream, session, deadline.arm(stream, session, perRecipient(session, callback)));
    },
  };

  const server = new SMTPServer(options);
  const deadline = new DataDeadline(() => server, config.smtp.dataTimeout, log, 'lmtp');
  server.on('error', (err) => log.warn({ err, listener: 'lmtp' }, 'lmtp connection error'));
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(config.lmtp.port, config.lmtp.bind, () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : config.lmtp.port);
    });
  });
  log.info({ listener: 'lmtp', port, bind: config.lmtp.bind }, 'lmtp listener started');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    sessions: () => sessions.size,
  };
}
