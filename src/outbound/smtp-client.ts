// One outbound SMTP connection (nodemailer's SMTP client) with promise-based calls:
// connect to the first answering host, send one transaction to several recipients of
// one domain and get a result per recipient, reuse the connection, quit.
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Destination } from './routing.js';

export interface ClientOptions {
  heloName: string;
  /** Verify the peer's certificate after STARTTLS (opportunistic TLS either way). */
  verifyCertificates: boolean;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
}

export type RecipientOutcome = { status: 'done'; response: string } | { status: 'deferred' | 'failed'; error: string };

export class ConnectionError extends Error {}

function outcomeOf(code: number | undefined, response: string | undefined, fallback: string): RecipientOutcome {
  const text = (response ?? fallback).trim();
  if (code && code >= 500) return { status: 'failed', error: text };
  return { status: 'deferred', error: text };
}

export class OutboundConnection {
  private connection: SMTPConnection | null = null;
  host = '';
  sent = 0;

  constructor(private readonly options: ClientOptions) {}

  /** Tries the hosts in order; throws ConnectionError with the last error if none answers. */
  async connect(hosts: Destination[]): Promise<void> {
    let lastError = 'no host to connect to';
    for (const destination of hosts) {
      try {
        this.connection = await this.open(destination);
        this.host = `${destination.host}:${destination.port}`;
        return;
      } catch (err) {
        lastError = `${destination.host}:${destination.port}: ${(err as Error).message}`;
      }
    }
    throw new ConnectionError(lastError);
  }

  private open(destination: Destination): Promise<SMTPConnection> {
    const connection = new SMTPConnection({
      host: destination.host, port: destination.port, name: this.options.heloName,
      opportunisticTLS: true, tls: { rejectUnauthorized: this.options.verifyCertificates },
      connectionTimeout: this.options.connectTimeoutMs, greetingTimeout: this.options.connectTimeoutMs,
      socketTimeout: this.options.socketTimeoutMs, logger: false,
    } as SMTPConnection.Options);
    return new Promise((resolve, reject) => {
      connection.once('error', reject);
      connection.connect(() => {
        connection.removeListener('error', reject);
        connection.on('error', () => undefined);
        resolve(connection);
      });
    });
  }

  get alive(): boolean {
    return this.connection !== null && !(this.connection as unknown as { _destroyed?: boolean })._destroyed;
  }

  /** One transaction; a result per recipient (in the order given). */
  async send(from: string, recipients: string[], size: number, body: AsyncIterable<Buffer>): Promise<RecipientOutcome[]> {
    const connection = this.connection;
    if (!connection) throw new ConnectionError('not connected');
    if (this.sent > 0) await new Promise<void>((resolve, reject) => connection.reset((err) => (err ? reject(err) : resolve())));
    this.sent += 1;
    const stream = Readable.from(body);
    try {
      const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) => {
        connection.send({ from, to: recipients, size } as SMTPConnection.Envelope, stream, (err, result) => (err ? reject(err) : resolve(result)));
      });
      const rejected = new Map<string, { responseCode?: number; response?: string }>();
      for (const e of (info as { rejectedErrors?: Array<{ recipient: string; responseCode?: number; response?: string }> }).rejectedErrors ?? []) {
        rejected.set(e.recipient, e);
      }
      return recipients.map((r) => {
        const e = rejected.get(r);
        return e ? outcomeOf(e.responseCode, e.response, 'recipient refused') : { status: 'done', response: info.response ?? '' };
      });
    } catch (err) {
      return this.transactionFailure(err as Error & { responseCode?: number; response?: string; code?: string; rejectedErrors?: Array<{ recipient: string; responseCode?: number; response?: string }> }, recipients);
    }
  }

  private transactionFailure(
    err: Error & { responseCode?: number; response?: string; code?: string; rejectedErrors?: Array<{ recipient: string; responseCode?: number; response?: string }> },
    recipients: string[],
  ): RecipientOutcome[] {
    if (err.code === 'ECONNECTION' || err.code === 'ETIMEDOUT' || err.code === 'ESOCKET' || !err.responseCode) {
      this.connection = null;
      return recipients.map(() => ({ status: 'deferred', error: `4.4.2 connection to ${this.host} lost: ${err.message}` }));
    }
    const perRecipient = new Map((err.rejectedErrors ?? []).map((e) => [e.recipient, e]));
    return recipients.map((r) => {
      const e = perRecipient.get(r);
      return e ? outcomeOf(e.responseCode, e.response, err.message) : outcomeOf(err.responseCode, err.response, err.message);
    });
  }

  close(): void {
    const connection = this.connection;
    this.connection = null;
    if (!connection) return;
    try {
      connection.quit();
    } catch {
      connection.close();
    }
  }
}
