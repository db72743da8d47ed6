// One log line per SMTP refusal, whatever refused: smtp-server itself (530 before AUTH,
// 503 bad sequence, 500 syntax), a connection cap (421) or our hooks (550 unknown user,
// 554 relay denied, 553 sender not owned). smtp-server reports every reply it writes
// to the logger it is given; this logger watches those reports and logs the 4xx/5xx
// ones with the client, the command and the TLS in use. Refusals after DATA (size 552,
// loop or plugin 554/550, LMTP's per-recipient 552 over quota, the DATA deadline's 421)
// are logged by the session as the transaction's outcome, failed logins by the AUTH
// hook; both kinds go into the dashboard's recent rejections. The same watcher counts
// connections, transactions and refusals for /metrics.
import type { SMTPServerSession } from 'smtp-server';
import type { Logger } from '../core/logger.js';
import { metrics } from '../core/metrics.js';

/** The TLS version and cipher of a session, as log fields (none on a plain connection). */
export function tlsFields(session: Pick<SMTPServerSession, 'tlsOptions'>): { tlsVersion?: string; tlsCipher?: string } {
  const tls = session.tlsOptions;
  if (!tls) return {};
  return { tlsVersion: tls.version, tlsCipher: tls.standardName ?? tls.name };
}

/** What smtp-server tells its logger, as far as this watcher reads it. */
type Entry = { tnx?: string; cid?: string; command?: string };

interface Connection {
  session: SMTPServerSession | null;
  /** The last command line received (AUTH lines come redacted). */
  command: string;
  /** After a 354: `waiting` for the transaction's reply (LMTP: replies, one per recipient), then `answered`. */
  data: 'none' | 'waiting' | 'answered';
  /** A 334 was sent: the lines that follow are AUTH's answers, not commands. */
  inAuth: boolean;
}

/** One refusal as the dashboard lists it. */
export interface RecentRefusal {
  time: number;
  listener: string;
  client: string | null;
  stage: string;
  code: number;
  reply: string;
}

/** The last refusals of this process, newest last (the dashboard's "recent rejections"). */
const recent: RecentRefusal[] = [];
const RECENT_KEPT = 50;

export function recentRefusals(): RecentRefusal[] {
  return [...recent];
}

/** Stages a metric label may name: anything else a client sends counts as OTHER (labels stay a bounded set). */
const SMTP_VERBS = new Set(['CONNECT', 'HELO', 'EHLO', 'LHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'AUTH', 'STARTTLS', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'EXPN', 'HELP']);

/** Longest part of a client's command line copied into a log line. */
const MAX_COMMAND_LOGGED = 200;

/** Replies already logged elsewhere: a failed login (535) and a locked account (454) by the AUTH hook. */
function loggedElsewhere(command: string, code: number): boolean {
  return command === 'AUTH' && (code === 535 || code === 454);
}

export class RefusalLog {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly log: Logger, private readonly listener: string) {}

  /** Call from onConnect: the session's client address and TLS go into each line. */
  open(session: SMTPServerSession): void {
    metrics.smtpConnections.inc({ listener: this.listener });
    this.connections.set(session.id, { session, command: '', data: 'none', inAuth: false });
  }

  /** The `logger` option of smtp-server. */
  readonly logger = {
    trace: () => undefined,
    debug: (entry: Entry, _message: string, line?: unknown) => this.observe(entry, String(line ?? '')),
    info: (entry: Entry) => {
      if (entry.tnx === 'close' && entry.cid) this.connections.delete(entry.cid);
    },
    warn: () => undefined,
    error: () => undefined,
    fatal: () => undefined,
  };

  private observe(entry: Entry, line: string): void {
    if (!entry.cid) return;
    const connection = this.connections.get(entry.cid) ?? { session: null, command: '', data: 'none', inAuth: false };
    this.connections.set(entry.cid, connection);
    if (entry.tnx === 'command') {
      if (connection.inAuth) return;
      connection.command = line.slice(0, MAX_COMMAND_LOGGED);
      connection.data = 'none';
      return;
    }
    if (entry.tnx !== 'send') return;
    const code = Number(line.slice(0, 3));
    connection.inAuth = code === 334;
    if (code === 354) {
      connection.data = 'waiting';
      return;
    }
    // Replies after the message (LMTP: one per recipient) until the next command.
    const afterData = connection.data !== 'none';
    if (connection.data === 'waiting') {
      connection.data = 'answered';
      metrics.smtpTransactions.inc({ listener: this.listener, result: code < 400 ? 'accepted' : 'rejected' });
    }
    if (!(code >= 400)) return;
    const stage = afterData ? 'DATA' : connection.command.split(' ')[0]?.toUpperCase() || 'CONNECT';
    metrics.smtpRejections.inc({ listener: this.listener, stage: SMTP_VERBS.has(stage) ? stage : 'OTHER', code: String(code) });
    if (loggedElsewhere(stage, code)) return;
    const session = connection.session;
    recent.push({ time: Date.now(), listener: this.listener, client: session?.remoteAddress ?? null, stage, code, reply: line.slice(0, MAX_COMMAND_LOGGED) });
    if (recent.length > RECENT_KEPT) recent.shift();
    // After DATA the session logs the transaction with its reason; this list and /metrics need it too.
    if (afterData) return;
    this.log.info({
      event: 'smtp.refused', listener: this.listener, session: entry.cid, client: session?.remoteAddress,
      user: typeof session?.user === 'string' ? session.user : undefined, stage, command: connection.command || undefined,
      code, reply: line.slice(0, MAX_COMMAND_LOGGED), ...(session ? tlsFields(session) : {}),
    }, 'smtp refused');
  }
}
