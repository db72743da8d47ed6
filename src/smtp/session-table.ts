// The session actors of one SMTP-family listener (MX, submission, SMTPS, LMTP): one
// actor per connection, spawned at connect and stopped at close, and the listener's
// MAIL/RCPT/DATA hooks handed to it. A session actor that crashed past its restart
// limit is forgotten: its connection's next command gets 421, and the connection's
// place in the per-address count is given back.
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import { dispatch, stop } from '../core/supervision.js';
import { defineActor, LONG_LIVED, spawnActor } from '../core/actor.js';
import type { ConnectionLimiter } from '../net/connection-limiter.js';
import { initialSmtpSessionState, smtpError, smtpSessionBehaviour, type Callback, type SmtpSessionDeps, type SmtpSessionMessage } from './session.js';

const notAvailable = () => smtpError(421, '4.3.0 Session not available');

export class SessionTable {
  private readonly sessions = new Map<string, Ref<SmtpSessionMessage>>();

  /** `name`: the actor name's prefix and the log's word for the listener (`smtp-mx`, `lmtp`). */
  constructor(
    private readonly parent: Ref<unknown>, private readonly deps: SmtpSessionDeps, private readonly limiter: ConnectionLimiter,
    private readonly log: Logger, private readonly name: string,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Starts the connection's session actor (its connection slot is already taken). */
  open(session: SMTPServerSession): void {
    // Resume: the failed command got its 451 and the client may go on; the session lives as long as its connection.
    const actor = defineActor({
      what: `${this.name} session ${session.id}`, handle: smtpSessionBehaviour(this.deps), initialState: initialSmtpSessionState,
      restart: { strategy: 'resume', ...LONG_LIVED },
      reportCrash: (msg) => msg?.callback(smtpError(451, '4.3.0 Internal error; please try again later')),
      onGiveUp: (self) => this.forget(session, self),
    });
    this.sessions.set(session.id, spawnActor(this.parent, actor, `${this.name}-${session.id}`, this.log));
  }

  /** The connection closed: its actor stops and its slot is given back (once). */
  close(session: SMTPServerSession): void {
    const ref = this.sessions.get(session.id);
    if (!ref) return;
    this.forget(session, ref);
    stop(ref);
  }

  mailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const ref = this.sessions.get(session.id);
    if (!ref) return callback(notAvailable());
    dispatch(ref, { type: 'mail-from', address, session, callback });
  }

  rcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const ref = this.sessions.get(session.id);
    if (!ref) return callback(notAvailable());
    dispatch(ref, { type: 'rcpt-to', address, session, callback });
  }

  /** Hands DATA to the session; without one the body is read and dropped, then 421. */
  data(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback): void {
    const ref = this.sessions.get(session.id);
    if (!ref) {
      stream.resume();
      stream.on('end', () => callback(notAvailable()));
      return;
    }
    dispatch(ref, { type: 'data', stream, session, callback });
  }

  private forget(session: SMTPServerSession, ref: Ref<SmtpSessionMessage>): void {
    if (this.sessions.get(session.id) !== ref) return;
    this.sessions.delete(session.id);
    this.limiter.release(session.remoteAddress, 'smtp');
  }
}
