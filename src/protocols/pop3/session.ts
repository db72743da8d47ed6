// One POP3 connection as a state machine (RFC 1939: AUTHORIZATION → TRANSACTION
// → UPDATE): reads command lines from a socket, answers them in order, streams
// messages with dot-stuffing and backpressure, and commits deletions only at QUIT.

import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { Logger } from '../../core/logger.js';
import type { AuthResult, Maildrop, Pop3Backend } from './backend.js';
import { parseCommand, type Pop3Command, type Pop3CommandName } from './commands.js';
import { CommandInput } from './command-input.js';
import type { InputLine } from './line-reader.js';
import { MaildropView } from './maildrop-view.js';
import { DotStuffer, TopLimiter } from './message-stream.js';
import { capabilities, err, ok, renderContinuation, renderResponse, type Pop3Response } from './responses.js';
import { decodePlainResponse } from './sasl-plain.js';
import { ConnectionLostError, SocketWriter } from './socket-writer.js';
import { plaintextAuthAllowed } from '../../net/plaintext-policy.js';
import { metrics } from '../../core/metrics.js';

export type SessionState = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

export interface Pop3SessionOptions {
  /** Client address for logs, the loopback rule and the backend; default: the socket's. */
  remoteAddress?: string;
  /** The connection is already TLS (implicit TLS, POP3S). Default false. */
  tlsActive?: boolean;
  /** Offer STLS with this context while the connection is plain. */
  stls?: { secureContext: tls.SecureContext };
  /** Accept USER/PASS and AUTH PLAIN without TLS from non-loopback clients. Default false. */
  allowPlaintextAuth?: boolean;
  /** Octets per command line including CRLF. Default 512. */
  maxLineLength?: number;
  /** Failed logins before the connection is closed. Default 3. */
  maxFailedAuths?: number;
  /** Pause before answering a failed login, to slow down guessing. Default 1000 ms. */
  authFailureDelayMs?: number;
  /** Autologout when no command arrives for this long (RFC 1939 minimum 10 min). Default 600 000 ms. */
  idleTimeoutMs?: number;
  /** Autologout when the client has not authenticated this long after connecting. Default 60 000 ms. */
  loginTimeoutMs?: number;
  /** Unsent bytes the socket may hold before sending waits for the client. Default 1 MiB. */
  maxWriteBufferBytes?: number;
  /** A client that reads nothing for this long while the buffer is full is cut off. Default 60 000 ms. */
  writeStallTimeoutMs?: number;
  /** Time allowed for the TLS handshake after STLS. Default 30 000 ms. */
  tlsHandshakeTimeoutMs?: number;
  /** Name in the greeting and CAPA IMPLEMENTATION. Default "ternmail". */
  implementation?: string;
  /**
   * A connection another process handed over right after this user logged in there:
   * no greeting; the session opens the maildrop and answers the login, then reads
   * `pending` (what the client sent meanwhile) before the socket.
   */
  handedOff?: { userId: string; pending: Buffer };
}

type Limits = Required<Omit<Pop3SessionOptions, 'remoteAddress' | 'stls' | 'handedOff'>>;

export const POP3_SESSION_DEFAULTS: Readonly<Limits> = {
  tlsActive: false,
  allowPlaintextAuth: false,
  maxLineLength: 512,
  maxFailedAuths: 3,
  authFailureDelayMs: 1000,
  idleTimeoutMs: 10 * 60 * 1000,
  loginTimeoutMs: 60 * 1000,
  maxWriteBufferBytes: 1024 * 1024,
  writeStallTimeoutMs: 60 * 1000,
  tlsHandshakeTimeoutMs: 30 * 1000,
  implementation: 'ternmail',
};

const PROCESS_TAG = randomBytes(3).toString('hex');
let sessionsStarted = 0;

/** How long a closing connection may linger for the client to read the last reply. */
const CLOSE_LINGER_MS = 5000;

/** The state each command is valid in (RFC 1939 §4-§6, RFC 2449, RFC 2595, RFC 5034). */
const VALID_IN: Record<Pop3CommandName, SessionState | 'any'> = {
  CAPA: 'any',
  QUIT: 'any',
  USER: 'AUTHORIZATION',
  PASS: 'AUTHORIZATION',
  APOP: 'AUTHORIZATION',
  AUTH: 'AUTHORIZATION',
  STLS: 'AUTHORIZATION',
  STAT: 'TRANSACTION',
  LIST: 'TRANSACTION',
  RETR: 'TRANSACTION',
  DELE: 'TRANSACTION',
  NOOP: 'TRANSACTION',
  RSET: 'TRANSACTION',
  TOP: 'TRANSACTION',
  UIDL: 'TRANSACTION',
};

/** run() rejects with this after an internal error was logged and answered with -ERR. */
export class Pop3SessionFailedError extends Error {
  constructor(sessionId: string, cause: unknown) {
    super(`pop3 session ${sessionId} failed`, { cause });
    this.name = 'Pop3SessionFailedError';
  }
}

/** A handler answers at once (null) or returns what to wait for before the next command. */
type Handler<C extends Pop3Command> = (session: Pop3Session, command: C) => Promise<void> | null;
type Handlers = { [K in Pop3CommandName]: Handler<Extract<Pop3Command, { name: K }>> };

export class Pop3Session {
  /** For logs: unique in this process (and, by the random tag, across restarts). */
  readonly id = `${PROCESS_TAG}${(++sessionsStarted).toString(36)}`;
  readonly remoteAddress: string;
  /** Resolves once the connection is closed and the maildrop is settled. */
  readonly closed: Promise<void>;

  private socket: Duplex;
  private readonly limits: Limits;
  private readonly stls: { secureContext: tls.SecureContext } | undefined;
  private readonly handedOff: Pop3SessionOptions['handedOff'];
  /** The connection went to another process: close only this process's descriptor. */
  private movedAway: false | 'moved' | 'relayed' = false;
  private readonly baseLog: Logger;
  private sessionLog: Logger | null = null;
  private readonly writer: SocketWriter;
  private readonly input: CommandInput;
  private ending = false;
  private started = false;
  /** Inside a multi-line message response, where an -ERR line would corrupt the message. */
  private streaming = false;
  private finished = false;
  private resolveClosed!: () => void;
  /** Ends the AUTHORIZATION state loginTimeoutMs after the connection started. */
  private loginDeadline: NodeJS.Timeout | undefined;

  private currentState: SessionState = 'AUTHORIZATION';
  private tlsActive: boolean;
  private pendingUser: string | undefined;
  private failedAuths = 0;
  private authenticatedUser: string | undefined;
  private maildrop: Maildrop | undefined;
  private maildropSettled = false;
  private view: MaildropView | undefined;

  constructor(
    socket: Duplex,
    private readonly backend: Pop3Backend,
    logger: Logger,
    options: Pop3SessionOptions = {},
  ) {
    this.socket = socket;
    this.limits = { ...POP3_SESSION_DEFAULTS, ...definedOnly(options) };
    this.stls = options.stls;
    this.handedOff = options.handedOff;
    this.tlsActive = this.limits.tlsActive;
    this.remoteAddress = options.remoteAddress ?? (socket as { remoteAddress?: string }).remoteAddress ?? 'unknown';
    this.baseLog = logger;
    this.writer = new SocketWriter(socket, {
      maxBufferedBytes: this.limits.maxWriteBufferBytes,
      stallTimeoutMs: this.limits.writeStallTimeoutMs,
    });
    // RFC 1939's ten minutes are for logged-in clients; before login the shorter timeout applies.
    const inputTimeoutMs = this.handedOff === undefined ? this.limits.loginTimeoutMs : this.limits.idleTimeoutMs;
    this.input = new CommandInput(socket, this.limits.maxLineLength, inputTimeoutMs, this.onSocketError);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    socket.on('close', this.onSocketClose);
    if (this.handedOff !== undefined) this.input.feed(this.handedOff.pending);
  }

  /** Made on first use: most sessions log nothing, and a child logger per connection costs time and memory. */
  private get log(): Logger {
    this.sessionLog ??= this.baseLog.child({ session: this.id, client: this.remoteAddress });
    return this.sessionLog;
  }

  get state(): SessionState {
    return this.currentState;
  }

  /** The authenticated user id, once PASS or AUTH succeeded. */
  get userId(): string | undefined {
    return this.authenticatedUser;
  }

  /**
   * Serves the connection until it closes. Resolves on a normal end (QUIT, client
   * gone, timeout, shutdown). On an internal error the client has already been
   * sent "-ERR [SYS/TEMP] internal error", the error logged and the connection
   * closed when this rejects with Pop3SessionFailedError.
   */
  async run(): Promise<void> {
    if (this.started) throw new Error(`pop3 session ${this.id} is already running`);
    this.started = true;
    try {
      if (this.handedOff === undefined) this.startLoginDeadline();
      if (this.handedOff === undefined) await this.reply(ok(`${this.limits.implementation} POP3 server ready`));
      else await this.openForUser(this.handedOff.userId, this.handedOff.userId, 'HANDOFF');
      await this.serveCommands();
    } catch (error) {
      if (error instanceof ConnectionLostError) {
        this.log.debug({ reason: error.message }, 'pop3 connection lost');
        return;
      }
      await this.sayInternalError(error);
      throw new Pop3SessionFailedError(this.id, error);
    } finally {
      await this.finish();
    }
  }

  /**
   * Ends the session from outside: after the command in progress, the client gets
   * "-ERR [SYS/TEMP] server shutting down" and the connection closes, no deletions.
   */
  shutdown(): Promise<void> {
    // A relayed connection carries the owner node's session: no reply of ours in it, closed now.
    if (this.movedAway === 'relayed') this.socket.destroy();
    this.input.interrupt();
    if (!this.started) void this.closeWithoutRunning(err('server shutting down', 'SYS/TEMP'));
    return this.closed;
  }

  /**
   * Closes the connection after a failure outside run() (for example in the code
   * that supervises it). Safe to call at any time and more than once.
   */
  async abort(error: unknown): Promise<void> {
    if (this.finished) return;
    if (!this.started) {
      await this.closeWithoutRunning(err('internal error', 'SYS/TEMP'), error);
      return;
    }
    this.log.error({ err: error }, 'pop3 session aborted');
    if (!this.streaming) this.writeBestEffort(renderResponse(err('internal error', 'SYS/TEMP')));
    // run() unwinds on its own and settles the maildrop; a backend call that never
    // returns must not keep the caller waiting, so this does not await `closed`.
    this.socket.destroy();
  }

  private async serveCommands(): Promise<void> {
    while (!this.ending) {
      const input = await this.input.next();
      if (input === undefined) {
        await this.sayWhyInputStopped();
        return;
      }
      const wait = this.handleInput(input);
      if (wait !== null) await wait;
    }
  }

  private async sayWhyInputStopped(): Promise<void> {
    const stoppedBy = this.input.stoppedBy;
    if (stoppedBy === 'interrupted') {
      await this.reply(err('server shutting down', 'SYS/TEMP'));
      return;
    }
    if (stoppedBy === 'idle') {
      this.log.info({ event: 'pop3.idle-timeout' }, 'pop3 autologout after idle timeout');
      await this.reply(err('autologout: idle for too long'));
    }
  }

  private handleInput(input: InputLine): Promise<void> | null {
    if (input.kind === 'too-long') return this.reply(err('line too long'));
    const parsed = parseCommand(input.text);
    if (!parsed.ok) {
      this.pendingUser = undefined;
      return this.reply(err(parsed.error));
    }
    const command = parsed.command;
    // PASS must directly follow USER (RFC 1939 §7).
    if (command.name !== 'PASS' && command.name !== 'USER') this.pendingUser = undefined;
    const refusal = this.stateRefusal(command.name);
    if (refusal !== undefined) return this.reply(err(refusal));
    return this.dispatch(command);
  }

  private stateRefusal(name: Pop3CommandName): string | undefined {
    const validIn = VALID_IN[name];
    if (validIn === 'any' || validIn === this.currentState) return undefined;
    return this.currentState === 'AUTHORIZATION' ? `${name} is not valid before login` : `${name} is not valid after login`;
  }

  private dispatch(command: Pop3Command): Promise<void> | null {
    const handler = Pop3Session.handlers[command.name] as Handler<Pop3Command>;
    const timer = metrics.commandSeconds.startTimer({ proto: 'pop3', command: command.name });
    let wait: Promise<void> | null;
    try {
      wait = handler(this, command);
    } catch (error) {
      timer();
      throw error;
    }
    if (wait === null) {
      timer();
      return null;
    }
    return wait.finally(timer);
  }

  /** One table for all sessions (not 15 closures per connection). */
  private static readonly handlers: Handlers = {
    USER: (session, command) => session.handleUser(command.user),
    PASS: (session, command) => session.handlePass(command.password),
    APOP: (session) => session.reply(err('APOP not supported, use USER/PASS or AUTH PLAIN')),
    AUTH: (session, command) => session.handleAuth(command.mechanism, command.initialResponse),
    STLS: (session) => session.handleStls(),
    CAPA: (session) => session.replyNow(ok('capability list follows', session.capabilityList())),
    QUIT: (session) => session.handleQuit(),
    STAT: (session) => session.handleStat(),
    LIST: (session, command) => session.handleList(command.message),
    UIDL: (session, command) => session.handleUidl(command.message),
    RETR: (session, command) => session.handleRetr(command.message),
    TOP: (session, command) => session.handleTop(command.message, command.lines),
    DELE: (session, command) => session.handleDele(command.message),
    NOOP: (session) => session.replyNow(ok('')),
    RSET: (session) => session.handleRset(),
  };

  // ---- AUTHORIZATION ----

  private capabilityList(): string[] {
    return capabilities({
      plaintextAuthAllowed: this.plaintextAuthAllowed(),
      stlsAvailable: this.stls !== undefined && !this.tlsActive,
      implementation: this.limits.implementation,
    });
  }

  private plaintextAuthAllowed(): boolean {
    return plaintextAuthAllowed(this.tlsActive, this.remoteAddress, this.limits.allowPlaintextAuth);
  }

  private refusePlaintext(): Promise<void> {
    return this.reply(err('plaintext authentication is not allowed on an unencrypted connection, use STLS', 'AUTH'));
  }

  private handleUser(user: string): Promise<void> | null {
    if (!this.plaintextAuthAllowed()) return this.refusePlaintext();
    this.pendingUser = user;
    return this.replyNow(ok('send PASS'));
  }

  private async handlePass(password: string): Promise<void> {
    if (!this.plaintextAuthAllowed()) return this.refusePlaintext();
    const user = this.pendingUser;
    this.pendingUser = undefined;
    if (user === undefined) return this.reply(err('send USER first'));
    await this.login(user, password, 'USER');
  }

  private async handleAuth(mechanism: string | undefined, initialResponse: string | undefined): Promise<void> {
    if (mechanism === undefined) {
      return this.reply(ok('SASL mechanisms follow', this.plaintextAuthAllowed() ? ['PLAIN'] : []));
    }
    if (mechanism !== 'PLAIN') return this.reply(err(`unsupported SASL mechanism ${mechanism}`));
    if (!this.plaintextAuthAllowed()) return this.refusePlaintext();
    const response = initialResponse ?? (await this.askForSaslResponse());
    if (response === undefined) return;
    if (response === '*') return this.reply(err('authentication cancelled'));
    const decoded = decodePlainResponse(response);
    if (!decoded.ok) return this.rejectCredentials('', 'PLAIN', decoded.error);
    await this.login(decoded.credentials.user, decoded.credentials.password, 'PLAIN');
  }

  /** The client's line after a "+ " continuation; undefined when input stopped. */
  private async askForSaslResponse(): Promise<string | undefined> {
    await this.writer.write(renderContinuation());
    const input = await this.input.next();
    if (input === undefined) return undefined;
    if (input.kind === 'too-long') {
      await this.reply(err('line too long'));
      return undefined;
    }
    return input.text.trim();
  }

  private async login(user: string, password: string, mechanism: 'USER' | 'PLAIN'): Promise<void> {
    const result = await this.authenticate(user, password);
    if (!result.ok && result.reason === 'temporary') {
      this.log.warn({ event: 'pop3.login-unavailable', user, mechanism }, 'pop3 login: authentication temporarily unavailable');
      return this.reply(err('authentication temporarily unavailable, try again later', 'SYS/TEMP'));
    }
    if (!result.ok && result.reason === 'locked') {
      this.log.info({ event: 'pop3.login-locked', user, mechanism }, 'pop3 login refused: too many failed logins');
      return this.reply(err('too many failed logins, try later', 'AUTH'));
    }
    if (!result.ok) return this.rejectCredentials(user, mechanism, 'bad credentials');
    if (await this.handOff(result.userId)) return;
    await this.openForUser(user, result.userId, mechanism);
  }

  /** The end of a login: locks the maildrop and answers the PASS or AUTH. */
  private async openForUser(user: string, userId: string, mechanism: 'USER' | 'PLAIN' | 'HANDOFF'): Promise<void> {
    const opened = await this.openMaildrop(userId);
    if (opened === 'in-use') {
      this.log.info({ event: 'pop3.maildrop-in-use', user, userId }, 'pop3 login: maildrop in use');
      return this.reply(err('maildrop already locked by another session', 'IN-USE'));
    }
    if (opened === 'failed') return this.reply(err('cannot open maildrop, try again later', 'SYS/TEMP'));
    this.enterTransaction(userId, opened);
    const { count, octets } = this.view!.stat();
    // The session's child logger is made only when the line will be written.
    if (this.baseLog.isLevelEnabled('info')) {
      this.log.info({ event: 'pop3.login', user, userId, mechanism, tls: this.tlsActive, messages: count }, 'pop3 login');
    }
    await this.reply(ok(`maildrop has ${count} messages (${octets} octets)`));
  }

  /**
   * Before the maildrop is locked, a plain connection may move to the process holding
   * it; that process answers the login. True when it took over: this session ends quietly.
   */
  private async handOff(userId: string): Promise<boolean> {
    const socket = this.socket;
    // A TLS connection cannot move to another process, but may be relayed (the backend decides).
    if (this.backend.handOff === undefined || !(socket instanceof net.Socket)) return false;
    const moved = await this.backend.handOff(userId, { socket, remoteAddress: this.remoteAddress, unread: () => this.input.unreadBytes() });
    if (!moved) return false;
    this.movedAway = moved;
    this.ending = true;
    return true;
  }

  private async authenticate(user: string, password: string): Promise<AuthResult> {
    try {
      return await this.backend.authenticate(user, password, this.remoteAddress);
    } catch (error) {
      this.log.error({ err: error, user }, 'pop3 authentication backend failed');
      return { ok: false, reason: 'temporary' };
    }
  }

  private async openMaildrop(userId: string): Promise<Maildrop | 'in-use' | 'failed'> {
    try {
      return await this.backend.openMaildrop(userId);
    } catch (error) {
      this.log.error({ err: error, userId }, 'pop3 cannot open maildrop');
      return 'failed';
    }
  }

  /** A client must authenticate within loginTimeoutMs of connecting, however it trickles input. */
  private startLoginDeadline(): void {
    this.loginDeadline = setTimeout(() => this.input.expire(), this.limits.loginTimeoutMs);
    this.loginDeadline.unref();
  }

  private enterTransaction(userId: string, maildrop: Maildrop): void {
    this.authenticatedUser = userId;
    this.maildrop = maildrop;
    this.view = new MaildropView(maildrop.messages);
    this.currentState = 'TRANSACTION';
    clearTimeout(this.loginDeadline);
    this.input.setIdleTimeout(this.limits.idleTimeoutMs);
  }

  private async rejectCredentials(user: string, mechanism: 'USER' | 'PLAIN', reason: string): Promise<void> {
    this.failedAuths += 1;
    const closing = this.failedAuths >= this.limits.maxFailedAuths;
    this.log.warn({ event: 'pop3.login-failed', proto: 'pop3', user, mechanism, reason, failures: this.failedAuths }, 'pop3 login failed');
    if (this.limits.authFailureDelayMs > 0) await delay(this.limits.authFailureDelayMs);
    if (!closing) return this.reply(err('invalid user name or password', 'AUTH'));
    this.ending = true;
    await this.reply(err('invalid user name or password; too many failures, closing connection', 'AUTH'));
  }

  private async handleStls(): Promise<void> {
    if (this.tlsActive) return this.reply(err('already using TLS'));
    if (this.stls === undefined) return this.reply(err('STLS not available'));
    const plain = this.input.releaseForTls();
    plain.off('close', this.onSocketClose);
    this.pendingUser = undefined;
    await this.reply(ok('begin TLS negotiation'));
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.stls.secureContext });
    secure.on('error', () => undefined);
    await this.awaitHandshake(secure);
    this.socket = secure;
    this.writer.replaceSocket(secure);
    this.tlsActive = true;
    this.input.attachTo(secure);
    secure.on('close', this.onSocketClose);
    this.log.debug({ event: 'pop3.stls' }, 'pop3 connection upgraded to TLS');
  }

  private awaitHandshake(secure: tls.TLSSocket): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('TLS handshake timed out')), this.limits.tlsHandshakeTimeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        secure.destroy();
        this.socket.destroy();
        reject(new ConnectionLostError(`STLS failed: ${error.message}`));
      };
      secure.once('secure', () => {
        clearTimeout(timer);
        secure.off('error', fail);
        resolve();
      });
      secure.once('error', fail);
      secure.once('close', () => fail(new Error('closed during TLS handshake')));
    });
  }

  // ---- TRANSACTION ----

  private handleStat(): Promise<void> | null {
    const { count, octets } = this.view!.stat();
    return this.replyNow(ok(`${count} ${octets}`));
  }

  private handleList(messageNumber: number | undefined): Promise<void> | null {
    const view = this.view!;
    if (messageNumber === undefined) {
      const { count, octets } = view.stat();
      return this.replyNow(ok(`${count} messages (${octets} octets)`, view.scanListing()));
    }
    const found = view.lookup(messageNumber);
    if (!found.ok) return this.replyNow(err(found.error));
    return this.replyNow(ok(`${messageNumber} ${found.message.size}`));
  }

  private handleUidl(messageNumber: number | undefined): Promise<void> | null {
    const view = this.view!;
    if (messageNumber === undefined) {
      const answer = view.uidlAnswer((lines) => renderResponse(ok('unique-id listing follows', lines)));
      return this.writer.sendResponse([answer], this.input.hasQueued());
    }
    const found = view.lookup(messageNumber);
    if (!found.ok) return this.replyNow(err(found.error));
    return this.replyNow(ok(`${messageNumber} ${found.message.uid}`));
  }

  private handleDele(messageNumber: number): Promise<void> | null {
    const found = this.view!.lookup(messageNumber);
    if (!found.ok) return this.replyNow(err(found.error));
    this.view!.markDeleted(found.index);
    return this.replyNow(ok(`message ${messageNumber} deleted`));
  }

  private handleRset(): Promise<void> | null {
    this.view!.unmarkAll();
    const { count, octets } = this.view!.stat();
    return this.replyNow(ok(`maildrop has ${count} messages (${octets} octets)`));
  }

  private handleRetr(messageNumber: number): Promise<void> | null {
    const found = this.view!.lookup(messageNumber);
    if (!found.ok) return this.reply(err(found.error));
    return this.sendMessage(found.index, ok(`${found.message.size} octets`), undefined);
  }

  private handleTop(messageNumber: number, bodyLines: number): Promise<void> | null {
    const found = this.view!.lookup(messageNumber);
    if (!found.ok) return this.reply(err(found.error));
    return this.sendMessage(found.index, ok('top of message follows'), new TopLimiter(bodyLines));
  }

  /**
   * Sends one message as a multi-line response: at once when the backend has it in
   * memory, else streamed (the first chunk is read before "+OK" so that a message
   * that cannot be read still gets a clean "-ERR").
   */
  private sendMessage(index: number, status: Pop3Response, limiter: TopLimiter | undefined): Promise<void> | null {
    const whole = this.maildrop!.readNow?.(index);
    if (whole === undefined) return this.streamMessage(index, status, limiter);
    const stuffer = new DotStuffer();
    const parts: Array<string | Buffer> = stuffer.push(limiter === undefined ? whole : limiter.push(whole));
    parts.unshift(renderResponse(status));
    parts.push(stuffer.finish());
    const wait = this.writer.sendResponse(parts, this.input.hasQueued());
    if (wait === null) return null;
    // The client reads slowly: until the rest is queued, an -ERR would land inside the message.
    this.streaming = true;
    return wait.then(() => {
      this.streaming = false;
    });
  }

  private async streamMessage(index: number, status: Pop3Response, limiter: TopLimiter | undefined): Promise<void> {
    const chunks = this.maildrop!.read(index)[Symbol.asyncIterator]();
    let step: IteratorResult<Buffer>;
    try {
      step = await chunks.next();
    } catch (error) {
      this.log.error({ err: error, index }, 'pop3 cannot read message');
      return this.reply(err('cannot read message, try again later', 'SYS/TEMP'));
    }
    await this.reply(status);
    const stuffer = new DotStuffer();
    this.streaming = true;
    try {
      while (!step.done) {
        const bytes = limiter === undefined ? step.value : limiter.push(step.value);
        for (const piece of stuffer.push(bytes)) await this.writer.write(piece);
        if (limiter?.done) break;
        step = await this.nextChunk(chunks, index);
      }
    } finally {
      if (!step.done) await closeIterator(chunks);
    }
    await this.writer.write(stuffer.finish());
    this.streaming = false;
  }

  /** A read failure after "+OK" cannot be reported in-band: the connection is cut. */
  private async nextChunk(chunks: AsyncIterator<Buffer>, index: number): Promise<IteratorResult<Buffer>> {
    try {
      return await chunks.next();
    } catch (error) {
      this.log.error({ err: error, index }, 'pop3 message read failed mid-response, closing connection');
      this.socket.destroy();
      throw new ConnectionLostError('message read failed');
    }
  }

  // ---- QUIT and UPDATE ----

  private async handleQuit(): Promise<void> {
    this.ending = true;
    if (this.currentState === 'AUTHORIZATION') {
      return this.reply(ok(`${this.limits.implementation} POP3 server signing off`));
    }
    this.currentState = 'UPDATE';
    const deleted = this.view!.deletedIndexes();
    const committed = await this.commitDeletions(deleted);
    if (!committed) return this.reply(err('could not remove deleted messages, none were removed', 'SYS/TEMP'));
    if (deleted.length > 0 && this.baseLog.isLevelEnabled('info')) {
      this.log.info({ event: 'pop3.quit', userId: this.authenticatedUser, deleted: deleted.length }, 'pop3 quit with deletions');
    }
    await this.reply(ok(`${this.limits.implementation} POP3 server signing off (${deleted.length} messages deleted)`));
  }

  /** Deletions are durable before "+OK" is sent; on failure the lock is released unchanged. */
  private async commitDeletions(deleted: number[]): Promise<boolean> {
    this.maildropSettled = true;
    try {
      await this.maildrop!.commit(deleted);
      return true;
    } catch (error) {
      this.log.error({ err: error, userId: this.authenticatedUser, deleted: deleted.length }, 'pop3 commit of deletions failed');
      await this.releaseMaildrop();
      return false;
    }
  }

  private async settleMaildrop(): Promise<void> {
    if (this.maildrop === undefined || this.maildropSettled) return;
    this.maildropSettled = true;
    await this.releaseMaildrop();
  }

  private async releaseMaildrop(): Promise<void> {
    try {
      await this.maildrop!.release();
    } catch (error) {
      this.log.error({ err: error, userId: this.authenticatedUser }, 'pop3 maildrop release failed');
    }
  }

  // ---- socket events ----

  private readonly onSocketClose = (): void => {
    if (this.finished) this.resolveClosed();
  };

  private readonly onSocketError = (error: Error): void => {
    this.log.debug({ err: error }, 'pop3 socket error');
  };

  // ---- output and closing ----

  private reply(response: Pop3Response): Promise<void> {
    return this.writer.write(renderResponse(response));
  }

  /** As reply, without a promise when the answer fits the socket's buffer (the usual case). */
  private replyNow(response: Pop3Response): Promise<void> | null {
    return this.writer.sendResponse([renderResponse(response)], this.input.hasQueued());
  }

  private writeBestEffort(text: string): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(text);
  }

  private async sayInternalError(error: unknown): Promise<void> {
    this.log.error({ err: error }, 'pop3 session failed');
    if (this.streaming) {
      this.socket.destroy();
      return;
    }
    this.writeBestEffort(renderResponse(err('internal error', 'SYS/TEMP')));
  }

  /** Closes a session whose run() was never called: on shutdown, or when its supervisor failed. */
  private async closeWithoutRunning(farewell: Pop3Response, error?: unknown): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (error !== undefined) this.log.error({ err: error }, 'pop3 session aborted before it ran');
    this.writeBestEffort(renderResponse(farewell));
    await this.finish();
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.ending = true;
    clearTimeout(this.loginDeadline);
    this.input.ignoreFurtherInput();
    await this.settleMaildrop();
    this.closeSocket();
  }

  /**
   * Ends the connection after the last reply is flushed. Reading on until the
   * client closes avoids a TCP reset that could discard that reply.
   */
  private closeSocket(): void {
    const socket = this.socket;
    if (socket.destroyed) {
      this.resolveClosed();
      return;
    }
    if (this.movedAway === 'relayed') {
      // The relay to the mailbox's node owns the connection now; its close resolves `closed`.
      return;
    }
    if (this.movedAway) {
      // end() would shut the connection down for the process now serving it.
      socket.destroy();
      return;
    }
    const linger = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    socket.once('end', () => socket.destroy());
    socket.resume();
    socket.end();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function closeIterator(chunks: AsyncIterator<Buffer>): Promise<void> {
  try {
    await chunks.return?.();
  } catch {
    // The response is complete or already abandoned; a failing cleanup changes nothing for the client.
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
