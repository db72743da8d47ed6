// What an IMAP session is given when it starts: its limits, the backend it reaches
// everything below through (backend.ts: logins, mailboxes, bodies), and connection
// policy. Commands see these through the session's context.
import type tls from 'node:tls';
import type { Logger } from '../core/logger.js';
import type { ConnectionLimiter } from '../net/connection-limiter.js';
import type { ConnectionHandoff } from '../transport/handoff.js';
import type { LiteralBudget } from './literal-budget.js';
import type { ImapBackend } from './backend.js';

/** Limits and timeouts of IMAP sessions. Tests lower the timeouts before starting a server. */
export interface ImapLimits {
  /** Autologout after this long without input (RFC 3501 §5.4: at least 30 minutes). */
  idleTimeoutMs: number;
  /** Autologout of a connection not authenticated this long after it started, however it trickles input. */
  loginTimeoutMs: number;
  /** Output buffered for a client that does not read, before the stall timer starts. */
  outputBufferBytes: number;
  /** How long the output may stay above the bound before the session is closed. */
  outputStallMs: number;
  /** Input received but not yet processed before the socket is paused. */
  inputQueueBytes: number;
  maxLineLength: number;
  maxLiteralSize: number;
  maxAppendSize: number;
  /** Literal bytes one command may carry before login (LOGIN, AUTHENTICATE). */
  maxPreAuthLiteral: number;
  /** Search keys in one SEARCH command. */
  maxSearchKeys: number;
  /**
   * A literal whose bytes stop coming for this long ends the session: its reservation
   * of the literal budget must not be held for the whole idle timeout.
   */
  literalStallMs: number;
  /** Timeout of one request to the mailbox actor. */
  mailboxAskMs: number;
  /**
   * LITERAL+ (non-synchronizing literals of any size within the limits above) when true;
   * LITERAL- when false: such literals only up to 4096 bytes (RFC 7888 §4). RFC 7888 §5
   * forbids advertising both.
   */
  literalPlus: boolean;
}

export const IMAP_LIMITS: ImapLimits = {
  idleTimeoutMs: 30 * 60_000,
  loginTimeoutMs: 60_000,
  outputBufferBytes: 4 * 1024 * 1024,
  outputStallMs: 10_000,
  inputQueueBytes: 1024 * 1024,
  maxLineLength: 64 * 1024,
  maxLiteralSize: 64 * 1024,
  maxAppendSize: 50 * 1024 * 1024,
  maxPreAuthLiteral: 8192,
  maxSearchKeys: 1000,
  literalStallMs: 60_000,
  mailboxAskMs: 15_000,
  literalPlus: true,
};

export interface ImapSessionDeps {
  /** Logins, the mailbox actor, bodies: the only way down (mailbox-backend.ts in the server). */
  backend: ImapBackend;
  limiter: ConnectionLimiter;
  log: Logger;
  limits: ImapLimits;
  allowPlaintextAuth: boolean;
  /** Present when STARTTLS can be offered on plain connections. */
  secureContext?: tls.SecureContext;
  /** In a cluster: moves the connection after login to the worker holding the mailbox. */
  handoff?: ConnectionHandoff;
  /** Literal bytes all sessions of the process may hold at once; unbounded when absent. */
  literalBudget?: LiteralBudget;
}
