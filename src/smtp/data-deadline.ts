// DATA as a whole has a deadline, for every SMTP-family listener (MX, submission,
// SMTPS, LMTP). The idle timeout restarts with every byte, so a client dripping one
// byte a minute would hold a session and its upload for ever. Past the deadline the
// connection gets 421 4.4.2 and is closed, which ends the data stream; the session
// then drops the upload, and nothing of the message is kept.
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Logger } from '../core/logger.js';
import type { Callback } from './session.js';

export class DataDeadline {
  /** `server` is read when a deadline passes (the listener builds it after its hooks). */
  constructor(private readonly server: () => SMTPServer, private readonly seconds: number, private readonly log: Logger, private readonly listener: string) {}

  /** Starts the deadline of one DATA; the returned callback ends it with the answer. */
  arm(stream: SMTPServerDataStream, session: SMTPServerSession, callback: Callback): Callback {
    const timer = setTimeout(() => this.drop(session), this.seconds * 1000);
    stream.once('close', () => clearTimeout(timer));
    return (err, message, refused) => {
      clearTimeout(timer);
      callback(err, message, refused);
    };
  }

  private drop(session: SMTPServerSession): void {
    for (const connection of this.server().connections) {
      if (connection.id !== session.id) continue;
      this.log.info({ session: session.id, client: session.remoteAddress, listener: this.listener, limit: this.seconds }, `${this.listener} DATA deadline passed`);
      connection.send(421, '4.4.2 Timeout during DATA; closing connection', false);
    }
  }
}
