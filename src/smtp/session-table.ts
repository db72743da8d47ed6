// The session actors of one SMTP-family listener (MX, submission, SMTPS, LMTP): one
// actor per connection, spawned at connect and stopped at close, and the listener's
// MAIL/RCPT/DATA hooks handed to it. A session actor that crashed past its restart
// limit is forgotten: its connection's next command gets 421, and the connection's
// place in the per-address count is given back. A MAIL FROM or RCPT TO that needs only
// memory is answered here, in the turn it arrived, on the actor's own state while the
// actor is idle; anything that must wait goes to the actor.
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import { dispatch, stop } from '../core/supervision.js';
import { defineActor, LONG_LIVED, spawnActor } from '../core/actor.js';
import type { ConnectionLimiter } from '../net/connection-limiter.js';
import {
  answerNow, initialSmtpSessionState, smtpError, smtpSessionBehaviour, type Callback, type SmtpSessionDeps, type SmtpSessionMessage, type SmtpSessionState,
} from './session.js';

const notAvailable = () => smtpError(421, '4.3.0 Session not available');

/** A connection's session actor, its state (the same object the actor holds) and how many of its messages are not yet handled. */
interface SessionEntry {
  ref: Ref<SmtpSessionMessage>;
  state: SmtpSessionState;
  busy: number;
}

export class SessionTable {
  private readonly sessions = new Map<string, SessionEntry>();

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
    const behaviour = smtpSessionBehaviour(this.deps);
    const state = initialSmtpSessionState();
    const entry: SessionEntry = { ref: null as unknown as Ref<SmtpSessionMessage>, state, busy: 0 };
    // Resume: the failed command got its 451 and the client may go on; the session lives as long as its connection.
    const actor = defineActor({
      what: `${this.name} session ${session.id}`,
      handle: async (current: SmtpSessionState, msg: SmtpSessionMessage) => {
        try {
          return await behaviour(current, msg);
        } finally {
          entry.busy -= 1;
        }
      },
      // One state object for the life of the connection (resume keeps it): the table answers on it too.
      initialState: () => state,
      restart: { strategy: 'resume', ...LONG_LIVED },
      reportCrash: (msg) => msg?.callback(smtpError(451, '4.3.0 Internal error; please try again later')),
      onGiveUp: (self) => this.forget(session, self),
    });
    entry.ref = spawnActor(this.parent, actor, `${this.name}-${session.id}`, this.log);
    this.sessions.set(session.id, entry);
  }

  /** The connection closed: its actor stops and its slot is given back (once). */
  close(session: SMTPServerSession): void {
    const entry = this.sessions.get(session.id);
    if (!entry) return;
    this.forget(session, entry.ref);
    stop(entry.ref);
  }

  mailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    this.command({ type: 'mail-from', address, session, callback });
  }

  rcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    this.command({ type: 'rcpt-to', address, session, callback });
  }

  /** Answered here when memory suffices and the actor is idle (nothing to overtake), else by the actor. */
  private command(msg: Extract<SmtpSessionMessage, { type: 'mail-from' | 'rcpt-to' }>): void {
    const entry = this.sessions.get(msg.session.id);
    if (!entry) return msg.callback(notAvailable());
    if (entry.busy === 0) {
      const answer = answerNow(msg, entry.state, this.deps);
      if (answer !== undefined) return msg.callback(answer);
    }
    this.send(entry, msg);
  }

  private send(entry: SessionEntry, msg: SmtpSessionMessage): void {
    entry.busy += 1;
    dispatch(entry.ref, msg);
  }

  /** Hands DATA to the session; without one the body is read and dropped, then 421. */
  data(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback): void {
    const entry = this.sessions.get(session.id);
    if (!entry) {
      stream.resume();
      stream.on('end', () => callback(notAvailable()));
      return;
    }
    this.send(entry, { type: 'data', stream, session, callback });
  }

  private forget(session: SMTPServerSession, ref: Ref<SmtpSessionMessage>): void {
    if (this.sessions.get(session.id)?.ref !== ref) return;
    this.sessions.delete(session.id);
    this.limiter.release(session.remoteAddress, 'smtp');
  }
}
