// One IMAP connection's session: the state machine (NOT AUTHENTICATED → AUTHENTICATED →
// SELECTED → LOGOUT), the selected folder's view, and the FolderEvents the mailbox actor
// pushes, reported with correct sequence numbers where RFC 3501 §7.4.1 allows.
import type net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { UserRecord } from '../directory/records.js';
import { ImapParser } from '../protocols/imap/parser.js';
import { writeResponse, fetchFlags, fetchLineParts, fetchModSeq, fetchNumber } from '../protocols/imap/writer.js';
import type {
  ContinuationEvent, FetchResponseItem, ImapCommand, ImapParserEvent, ImapResponse, NotifyEventGroup, ParseErrorEvent,
} from '../protocols/imap/types.js';
import type { FolderEvent, FolderEventMessage, MessageView } from '../mailbox/imap-messages.js';
import {
  commandFailure, type AwaitLine, type CommandResult, type Completion, type ImapContext, type SelectedFolder, type SessionState,
} from './commands/command.js';
import { COMMANDS } from './commands/index.js';
import { admit, afterCompletion, expungeAllowedAfter, type AfterCommand, type BeforeCommand, type CommandHooks } from './command-rules.js';
import type { ImapSessionDeps } from './deps.js';
import type { UserMailbox } from './backend.js';
import { dispatch as dispatchMessage } from '../core/supervision.js';
import { plaintextAuthAllowed } from '../net/plaintext-policy.js';
import { ImapOutput, SessionClosedError } from './session-output.js';
import { ImapInput } from './session-input.js';
import { permanentFlags, sequenceOf, unannouncedKeywords, visibleFlags } from './view.js';
import { refreshSearchUpdates, removeExpungedFromUpdates } from './search-updates.js';
import { notificationOf } from './notify.js';
import { metrics } from '../core/metrics.js';
import { sweepEvery, type TimeoutSweep } from '../net/timeout-sweep.js';

export type SessionMessage =
  | { type: 'start' }
  /** The next chunk of the inbox is ready. */
  | { type: 'input' }
  | FolderEventMessage
  | { type: 'idle-check' }
  | { type: 'shutdown' }
  | { type: 'socket-closed' };

export { SessionClosedError };

const BASE_CAPABILITIES = [
  'IMAP4rev1', 'IMAP4rev2', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UNSELECT', 'UIDPLUS', 'MOVE', 'MULTIAPPEND',
  'CHILDREN', 'LIST-EXTENDED', 'LIST-STATUS', 'SPECIAL-USE', 'CONDSTORE', 'QRESYNC', 'ESEARCH', 'SEARCHRES',
  'QUOTA', 'QUOTA=RES-STORAGE', 'STATUS=SIZE', 'COMPRESS=DEFLATE', 'SORT', 'SORT=DISPLAY', 'ESORT', 'CONTEXT=SEARCH', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES', 'BINARY', 'OBJECTID', 'UTF8=ACCEPT', 'CATENATE', 'METADATA', 'NOTIFY', 'SAVEDATE', 'ACL', 'RIGHTS=texk',
];

/** RFC 7888 §4: under LITERAL- a non-synchronizing literal may carry at most this many bytes. */
const LITERAL_MINUS_MAX = 4096;

/**
 * The latency histogram's series of each command name (a bounded set: the command table's),
 * made once: prom-client's timer built a label object, two closures and two hrtime arrays
 * per command, a few per cent of the CPU of a steady stream of small commands.
 */
const latencies = new Map<string, ReturnType<typeof metrics.commandSeconds.labels>>();

function latencyOf(command: string): ReturnType<typeof metrics.commandSeconds.labels> {
  let series = latencies.get(command);
  if (series === undefined) {
    series = metrics.commandSeconds.labels({ proto: 'imap', command });
    latencies.set(command, series);
  }
  return series;
}

interface LineWaiter {
  command: ImapCommand;
  handler: AwaitLine['awaitLine'];
}


export class ImapSession implements ImapContext, CommandHooks {
  readonly id = randomUUID();
  /** The one hook point around commands (command-rules.ts): before may refuse, after observes. */
  readonly beforeCommand: BeforeCommand[] = [];
  readonly afterCommand: AfterCommand[] = [];
  state: SessionState = 'not-authenticated';
  user: UserRecord | null = null;
  selected: SelectedFolder | null = null;
  readonly enabled = new Set<string>();
  tlsActive: boolean;
  readonly remoteAddress: string;
  /** The session actor: socket input, timers and the mailbox's folder events arrive here. */
  private eventRef!: Ref<SessionMessage>;
  /** NOTIFY SET's groups: changes of folders not selected are reported as they come. */
  private notifyGroups: NotifyEventGroup[] | null = null;
  /** The user's mailbox port, made on first use after login. */
  private userMailbox: UserMailbox | null = null;
  /** Resolves once the connection is closed and the session cleaned up. */
  readonly closed: Promise<void>;

  private socket: net.Socket;
  /** Client bytes waiting for the actor, bounded; COMPRESS inflation (session-input.ts). */
  private readonly input: ImapInput;
  /** Responses out: batching, COMPRESS, the stall bound (session-output.ts). */
  private readonly output: ImapOutput;
  private parser: ImapParser;
  private pendingEvents: FolderEvent[] = [];
  private lineWaiter: LineWaiter | null = null;
  private idling = false;
  private finished = false;
  /** The connection is relayed to the node holding the mailbox (a cluster of machines). */
  private relayed = false;
  /** The session pinned its mailbox (released at the end). */
  private retained = false;
  private utf8 = false;
  /** Bytes of the current command's literals, taken from the process's literal budget. */
  private literalBytesHeld = 0;
  private lastInput = Date.now();
  private readonly startedAt = Date.now();
  /** The shared timer that wakes the session when a timeout may have passed (src/net/timeout-sweep.ts). */
  private idleSweep: TimeoutSweep | null = null;
  private resolveClosed!: () => void;
  private sessionLog: Logger | null = null;

  constructor(socket: net.Socket, readonly deps: ImapSessionDeps) {
    this.socket = socket;
    this.input = new ImapInput(socket, deps.limits.inputQueueBytes);
    this.output = new ImapOutput(socket, deps.limits, (buffered) => {
      this.log.warn({ buffered, user: this.user?.address }, 'imap client is not reading; closing');
      this.socket.destroy();
      void this.cleanup();
    });
    this.tlsActive = socket instanceof tls.TLSSocket;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.parser = this.newParser();
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Made on first use: most idle sessions never log, and a child logger per connection costs memory. */
  private get log(): Logger {
    this.sessionLog ??= this.deps.log.child({ session: this.id, client: this.remoteAddress });
    return this.sessionLog;
  }

  get canStartTls(): boolean {
    return !this.tlsActive && this.deps.secureContext !== undefined;
  }

  get plaintextAuthAllowed(): boolean {
    return plaintextAuthAllowed(this.tlsActive, this.remoteAddress, this.deps.allowPlaintextAuth);
  }

  private newParser(): ImapParser {
    const { maxLineLength, maxLiteralSize, maxAppendSize, literalPlus } = this.deps.limits;
    return new ImapParser({
      maxLineLength, maxLiteralSize, maxAppendSize, utf8Accept: this.utf8, reportNonSynchronizing: true,
      ...(literalPlus ? {} : { maxNonSyncLiteral: LITERAL_MINUS_MAX }),
    });
  }

  // ---------------------------------------------------------------- actor side

  /** Connects the socket to the session actor `ref` and greets the client. */
  attach(ref: Ref<SessionMessage>): void {
    this.connect(ref);
    this.dispatchTo({ type: 'start' });
  }

  /**
   * Continues a session another worker handed off after LOGIN: already authenticated,
   * its tagged OK (with the capabilities) already sent there. `pending` is what the
   * client sent after that the other worker did not process; it is handled first.
   */
  attachHandedOff(ref: Ref<SessionMessage>, user: UserRecord, pending: Buffer): void {
    this.loggedIn(user);
    this.retainMailbox(user);
    this.connect(ref);
    // Socket data only arrives on a later turn of the event loop: these bytes come first.
    if (pending.length > 0) this.receive(pending);
  }

  private connect(ref: Ref<SessionMessage>): void {
    this.eventRef = ref;
    this.listenTo(this.socket, ref);
    const { idleTimeoutMs, loginTimeoutMs, literalStallMs } = this.deps.limits;
    const shortest = Math.min(idleTimeoutMs, loginTimeoutMs, literalStallMs);
    const every = Math.max(50, Math.min(30_000, Math.floor(shortest / 4)));
    this.idleSweep = sweepEvery(every);
    this.idleSweep.add(this);
  }

  /** The idle sweep asks: may the login, idle or literal timeout have passed? (Checked again in the actor.) */
  timeoutDue(now: number): boolean {
    return this.state === 'not-authenticated' ? now - this.startedAt >= this.deps.limits.loginTimeoutMs : this.idleTimedOut(now);
  }

  onTimeoutDue(): void {
    this.dispatchTo({ type: 'idle-check' });
  }

  private dispatchTo(message: SessionMessage): void {
    if (this.finished) return;
    dispatchMessage(this.eventRef, message);
  }

  private listenTo(socket: net.Socket, ref: Ref<SessionMessage>): void {
    this.input.readFrom(socket);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => dispatchMessage(ref, { type: 'socket-closed' }));
    socket.on('error', (err) => this.log.debug({ err }, 'imap socket error'));
  }

  /** Queues client bytes for the actor; the input source pauses while too much waits. */
  private receive(chunk: Buffer): void {
    if (this.finished) {
      this.input.discardAfterClose(chunk.length);
      return;
    }
    this.input.push(chunk);
    dispatchMessage(this.eventRef, { type: 'input' });
  }

  /** The session actor's handler: one message at a time. */
  async handle(message: SessionMessage): Promise<void> {
    try {
      await this.handleMessage(message);
    } catch (err) {
      if (err instanceof SessionClosedError) return;
      throw err;
    }
  }

  private async handleMessage(message: SessionMessage): Promise<void> {
    if (this.finished) return;
    // Relayed: the owner node's session reads and answers the client now.
    if (this.relayed && message.type !== 'shutdown' && message.type !== 'socket-closed') return;
    switch (message.type) {
      case 'start':
        return this.send({ type: 'untagged', status: 'OK', code: { code: 'CAPABILITY', capabilities: this.capabilities() }, text: 'ternmail IMAP ready' });
      case 'input':
        return this.onInput();
      case 'folder-event':
        return this.onFolderEvent(message.event);
      case 'idle-check':
        return this.checkIdle();
      case 'shutdown':
        // A relayed connection carries the owner node's session: no BYE of ours in its stream.
        return this.relayed ? this.destroy() : this.bye('server shutting down');
      case 'socket-closed':
        return this.cleanup();
    }
  }

  /** After a crash of the session actor: tell the client and drop the connection. */
  abort(err: unknown): void {
    this.log.error({ err }, 'imap session crashed');
    if (!this.finished && this.socket.writable) this.socket.write('* BYE Internal server error\r\n');
    this.socket.destroy();
    void this.cleanup();
  }

  /** Drops the connection without a goodbye (shutdown grace period over). */
  destroy(): void {
    this.socket.destroy();
    void this.cleanup();
  }

  /**
   * Before login the short login timeout counts from the connection's start (RFC 9051 §5.4
   * allows a shorter one there; a client sending a byte now and then must not hold the
   * connection), after it the idle timeout counts from the last input.
   */
  private async checkIdle(): Promise<void> {
    if (this.state === 'not-authenticated' ? this.loginTimedOut() : this.idleTimedOut()) {
      this.log.info({ user: this.user?.address, state: this.state }, 'imap autologout after idle timeout');
      await this.bye('Autologout; idle for too long');
    }
  }

  private loginTimedOut(): boolean {
    return Date.now() - this.startedAt >= this.deps.limits.loginTimeoutMs;
  }

  /** Between messages, held literal bytes mean a literal is being received: it may stall less long. */
  private idleTimedOut(now = Date.now()): boolean {
    const { idleTimeoutMs, literalStallMs } = this.deps.limits;
    const allowed = this.literalBytesHeld > 0 ? Math.min(idleTimeoutMs, literalStallMs) : idleTimeoutMs;
    return now - this.lastInput >= allowed;
  }

  private async bye(text: string): Promise<void> {
    try {
      await this.send({ type: 'untagged', status: 'BYE', text });
    } finally {
      this.close();
    }
  }

  // ---------------------------------------------------------------- input

  private async onInput(): Promise<void> {
    const chunk = this.input.next();
    if (chunk === undefined) return;
    this.lastInput = Date.now();
    this.parser.push(chunk);
    this.output.holdForInput();
    try {
      for (;;) {
        // Relayed: the commands pipelined after LOGIN went to the owner node with the rest.
        if (this.finished || this.relayed) return;
        const event = this.parser.next();
        if (event === undefined) return;
        await this.onParserEvent(event);
      }
    } finally {
      this.output.releaseInput();
    }
  }

  private async onParserEvent(event: ImapParserEvent): Promise<void> {
    switch (event.type) {
      case 'command':
        try {
          return await this.runCommand(event.command);
        } finally {
          this.releaseLiterals();
        }
      case 'continuation':
        return this.onLiteralAnnounced(event);
      case 'error':
        this.releaseLiterals();
        return this.onParseError(event);
      case 'line':
        return this.onLine(event.line);
    }
  }

  /**
   * A literal is admitted before any of its bytes is buffered: before login only small
   * ones (LOGIN, AUTHENTICATE), and only while the process's literal budget allows. A
   * refused LITERAL+ is already on its way and nothing after it can be trusted: the
   * connection is closed.
   */
  private async onLiteralAnnounced(event: ContinuationEvent): Promise<void> {
    const refusal = this.literalRefusal(event.size);
    if (refusal === null) {
      if (event.nonSynchronizing !== true) await this.send({ type: 'continuation', text: 'Ready for literal data' });
      return;
    }
    this.releaseLiterals();
    this.log.warn({ size: event.size, command: event.command, state: this.state, refusal }, 'imap literal refused');
    if (event.nonSynchronizing === true) {
      await this.send({ type: 'tagged', tag: event.tag, status: 'BAD', code: { code: refusal === 'budget' ? 'LIMIT' : 'TOOBIG' }, text: 'Literal refused' });
      await this.bye('Literal refused; closing connection');
      return;
    }
    this.parser.abortCommand();
    const answer = refusal === 'budget'
      ? { code: { code: 'LIMIT' as const }, text: 'Server busy, literal refused; try again later' }
      : { code: { code: 'TOOBIG' as const }, text: 'Literal too big before authentication' };
    await this.send({ type: 'tagged', tag: event.tag, status: 'NO', ...answer });
  }

  /** Why a literal of `size` bytes cannot be taken now, or null once its bytes are reserved. */
  private literalRefusal(size: number): 'pre-auth' | 'budget' | null {
    if (this.state === 'not-authenticated' && this.literalBytesHeld + size > this.deps.limits.maxPreAuthLiteral) return 'pre-auth';
    const budget = this.deps.literalBudget;
    if (budget !== undefined && !budget.tryReserve(size)) return 'budget';
    this.literalBytesHeld += size;
    return null;
  }

  /** The current command's literals are no longer held (it ran, failed to parse, or was refused). */
  private releaseLiterals(): void {
    if (this.literalBytesHeld === 0) return;
    this.deps.literalBudget?.release(this.literalBytesHeld);
    this.literalBytesHeld = 0;
  }

  private async onParseError(event: ParseErrorEvent): Promise<void> {
    if (this.lineWaiter !== null) this.endLineWait();
    const code = event.code === undefined ? undefined : event.code === 'BADCHARSET'
      ? { code: 'BADCHARSET' as const, charsets: ['UTF-8', 'US-ASCII'] } : { code: event.code };
    if (event.tag === null) {
      await this.send({ type: 'untagged', status: 'BAD', ...(code ? { code } : {}), text: event.text });
    } else {
      await this.send({ type: 'tagged', tag: event.tag, status: event.response, ...(code ? { code } : {}), text: event.text });
    }
    if (this.isDecompressionBomb(event)) await this.bye('Compressed input too large; closing connection');
    else if (this.isUnauthenticatedFlood(event)) await this.bye('Literal refused; closing connection');
  }

  /**
   * Before login a refused non-synchronizing literal larger than a login needs is not read
   * through (its bytes are on their way): the connection is closed, as for one the session refuses.
   */
  private isUnauthenticatedFlood(event: ParseErrorEvent): boolean {
    const skipped = event.skippedLiteral;
    return skipped !== undefined && this.state === 'not-authenticated' && skipped > this.deps.limits.maxPreAuthLiteral && !this.finished;
  }

  /**
   * Under COMPRESS an over-long line or literal costs the client a few bytes and us the
   * inflating of all of it: rather than skip it, the connection is closed.
   */
  private isDecompressionBomb(event: ParseErrorEvent): boolean {
    return this.input.compressed && (event.code === 'LIMIT' || event.code === 'TOOBIG') && !this.finished;
  }

  private endLineWait(): void {
    this.lineWaiter = null;
    this.idling = false;
  }

  private async onLine(line: string): Promise<void> {
    const waiter = this.lineWaiter;
    this.lineWaiter = null;
    if (waiter === null) return;
    const result = await this.guarded(() => waiter.handler(line));
    await this.complete(waiter.command, result);
  }

  // ---------------------------------------------------------------- commands

  /** Runs one parsed command through the table's rules, the hooks and its handler. */
  async runCommand(command: ImapCommand): Promise<void> {
    const spec = COMMANDS.get(command.name);
    if (spec === undefined) {
      await this.send({ type: 'tagged', tag: command.tag, status: 'BAD', text: `${command.name} is not supported` });
      return;
    }
    const refused = await admit(this, this, spec, command);
    if (refused !== null) {
      const { status, text, code } = refused;
      await this.send({ type: 'tagged', tag: command.tag, status, text, ...(code ? { code } : {}) });
      return;
    }
    this.output.holdForCommand();
    this.userMailbox?.newCommand?.();
    const started = performance.now();
    try {
      const result = await this.guarded(() => spec.handle(this, command));
      latencyOf(command.name).observe((performance.now() - started) / 1000);
      await this.complete(command, result);
    } finally {
      this.output.releaseCommand();
    }
  }

  private async guarded(run: () => Promise<CommandResult>): Promise<CommandResult> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof SessionClosedError) throw err;
      this.log.error({ err }, 'imap command failed');
      return commandFailure(err);
    }
  }

  private async complete(command: ImapCommand, result: CommandResult): Promise<void> {
    if ('awaitLine' in result) {
      this.lineWaiter = { command, handler: result.awaitLine };
      this.parser.expectRawLine();
      return;
    }
    await this.finish(command, result);
  }

  private async finish(command: ImapCommand, completion: Completion): Promise<void> {
    const spec = COMMANDS.get(command.name);
    if (this.state === 'selected' && spec?.reportsChanges !== false) {
      await this.flushEvents(expungeAllowedAfter(spec, command));
      if (this.selected !== null && this.selected.searchUpdates.length > 0) await refreshSearchUpdates(this, this.selected);
    }
    const { status, text, code } = completion;
    await this.send({ type: 'tagged', tag: command.tag, status, text, ...(code ? { code } : {}) });
    await afterCompletion(this, this, spec, command, completion);
    if (completion.after) await completion.after();
  }

  // ---------------------------------------------------------------- output

  async send(response: ImapResponse): Promise<void> {
    if (this.finished || this.socket.destroyed) throw new SessionClosedError();
    if (response.type === 'fetches') {
      // FETCH answers: large literals (bodies) go to the socket as they are, beside the lines.
      for (const part of fetchLineParts(response.answers)) await this.output.write(part);
      return;
    }
    await this.output.write(writeResponse(response, { utf8: this.utf8 }));
  }

  // ---------------------------------------------------------------- context for commands

  get rev2(): boolean {
    return this.enabled.has('IMAP4rev2');
  }

  capabilities(): string[] {
    // RFC 7889: one limit for every folder, the largest literal an APPEND may carry.
    const caps = [...BASE_CAPABILITIES, this.deps.limits.literalPlus ? 'LITERAL+' : 'LITERAL-', `APPENDLIMIT=${this.deps.limits.maxAppendSize}`];
    if (this.state !== 'not-authenticated') return caps;
    if (this.canStartTls) caps.push('STARTTLS');
    if (this.plaintextAuthAllowed) caps.push('AUTH=PLAIN');
    else caps.push('LOGINDISABLED');
    return caps;
  }

  setNotify(groups: NotifyEventGroup[] | null): void {
    this.notifyGroups = groups;
  }

  async enableCondstore(): Promise<void> {
    if (this.enabled.has('CONDSTORE')) return;
    this.enabled.add('CONDSTORE');
    const folder = this.selected;
    if (folder === null) return;
    await this.send({ type: 'untagged', status: 'OK', code: { code: 'HIGHESTMODSEQ', value: folder.highestModseq }, text: 'Highest' });
  }

  mailbox(): UserMailbox {
    const user = this.user;
    if (user === null) throw new Error('mailbox request before login');
    // The session actor takes `folder-event` among its messages: it is the folder listener.
    this.userMailbox ??= this.deps.backend.mailboxFor({
      user, session: this.id, listener: this.eventRef, timeoutMs: this.deps.limits.mailboxAskMs,
    });
    return this.userMailbox;
  }

  loggedIn(user: UserRecord): void {
    this.user = user;
    this.state = 'authenticated';
  }

  /**
   * Keeps the mailbox loaded while this session uses it: once the session is known to
   * stay here (after the handoff offer), so a session relayed to the mailbox's node does
   * not pin it from here too (for a mailbox on another node, a request there and back).
   */
  private retainMailbox(user: UserRecord): void {
    if (this.retained) return;
    this.retained = true;
    this.deps.backend.retain(user);
  }

  /**
   * Right after login: passes a plain connection to the worker holding the mailbox, if
   * that is another one, or relays it to that node on another machine. Once it took
   * over, this session ends without writing anything more (the client never notices);
   * otherwise it goes on here.
   */
  async handOffToOwner(): Promise<void> {
    const user = this.user;
    if (user === null) return;
    if (!(await this.offerToOwner(user))) this.retainMailbox(user);
  }

  /** True when another process or node took the session over. */
  private async offerToOwner(user: UserRecord): Promise<boolean> {
    const handoff = this.deps.handoff;
    // A TLS connection cannot move to another process, but may be relayed (the handoff decides).
    if (handoff === undefined || this.output.compressing) return false;
    this.output.flushHeld();
    const moved = await handoff.offer({
      protocol: 'imap', socket: this.socket, user: user.address, mailboxId: user.mailboxId, remoteAddress: this.remoteAddress,
      unread: () => this.unreadInput(),
    });
    if (!moved) return false;
    if (moved === 'relayed') {
      // Relayed to the mailbox's node, which now runs the session: this one ends when the connection closes.
      this.relayed = true;
      this.idleSweep?.delete(this);
      return true;
    }
    await this.cleanup();
    // Only this process's descriptor: the connection lives on in the other worker.
    this.socket.destroy();
    return true;
  }

  /** What the client sent that this session has not processed, or null mid-command. */
  private unreadInput(): Buffer | null {
    const unparsed = this.parser.unconsumed();
    return unparsed === null ? null : Buffer.concat([unparsed, ...this.input.pending()]);
  }

  select(folder: SelectedFolder): void {
    this.selected = folder;
    this.pendingEvents = [];
    this.state = 'selected';
  }

  unselect(): void {
    this.selected = null;
    this.pendingEvents = [];
    this.state = 'authenticated';
  }

  async flushEvents(allowExpunge: boolean): Promise<void> {
    while (this.pendingEvents.length > 0 && this.selected !== null) {
      const event = this.pendingEvents[0]!;
      if (event.kind === 'expunged' && !allowExpunge) return;
      this.pendingEvents.shift();
      await this.applyEvent(this.selected, event);
    }
  }

  async announceKeywords(messages: MessageView[]): Promise<void> {
    const folder = this.selected;
    if (folder === null) return;
    const fresh = unannouncedKeywords(folder, messages);
    if (fresh.length === 0) return;
    folder.flagList = [...folder.flagList, ...fresh.sort()];
    await this.send({ type: 'flags', flags: folder.flagList });
    await this.send({ type: 'untagged', status: 'OK', code: { code: 'PERMANENTFLAGS', flags: permanentFlags(folder) }, text: 'Flags permitted' });
  }

  async reportExpunged(uids: number[]): Promise<void> {
    const folder = this.selected;
    if (folder === null) return;
    const present = [...new Set(uids)].filter((uid) => folder.messages.has(uid)).sort((a, b) => a - b);
    if (present.length === 0) return;
    await removeExpungedFromUpdates(this, folder, present);
    if (this.enabled.has('QRESYNC')) {
      for (const uid of present) this.forget(folder, uid, sequenceOf(folder, uid));
      await this.send({ type: 'vanished', earlier: false, uids: present });
      return;
    }
    for (const uid of present) {
      const seq = sequenceOf(folder, uid);
      this.forget(folder, uid, seq);
      await this.send({ type: 'expunge', seq });
    }
  }

  private forget(folder: SelectedFolder, uid: number, seq: number): void {
    folder.uids.splice(seq - 1, 1);
    folder.messages.delete(uid);
    folder.recent.delete(uid);
    folder.vanishing.delete(uid);
  }

  async startTls(): Promise<void> {
    const secureContext = this.deps.secureContext;
    if (secureContext === undefined) throw new Error('STARTTLS without a certificate');
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext });
    this.socket = secure;
    this.output.useSocket(secure);
    this.tlsActive = true;
    // Anything pipelined after STARTTLS arrived in plaintext: an injection, dropped (RFC 3501 §6.2.1).
    this.discardPendingInput('STARTTLS');
    this.listenTo(secure, this.eventRef);
  }

  get compressionActive(): boolean {
    return this.output.compressing;
  }

  /**
   * From now on both directions are raw DEFLATE streams (RFC 4978 §3). Inflating is paced
   * by the session: the inflater pauses while its output waits, so a small compressed
   * bomb never expands beyond the input queue bound, and its lines meet the line limit.
   */
  startCompression(): void {
    const socket = this.socket;
    socket.removeAllListeners('data');
    // The client must wait for the tagged OK (RFC 4978 §3): bytes sent before it are dropped.
    this.discardPendingInput('COMPRESS');
    this.input.decompress(socket, (chunk) => this.receive(chunk), (err) => {
      this.log.info({ err }, 'invalid compressed input; closing');
      socket.destroy();
    });
    this.output.compress(zlib.createDeflateRaw());
    if (socket.isPaused()) socket.resume();
  }

  /** Drops input received and not yet run: it was sent before a STARTTLS or COMPRESS took effect. */
  private discardPendingInput(reason: 'STARTTLS' | 'COMPRESS'): void {
    const dropped = this.parser.bufferedBytes + this.input.drop();
    this.parser = this.newParser();
    if (dropped > 0) this.log.warn({ dropped, reason }, `imap input sent after ${reason} and before it took effect dropped`);
  }

  enableUtf8(): void {
    this.utf8 = true;
    this.parser.utf8Accept = true;
  }

  beginIdle(): void {
    this.idling = true;
  }

  endIdle(): void {
    this.idling = false;
  }

  /** Ends the connection after the last response (LOGOUT, BYE). */
  close(): void {
    if (this.finished) return;
    this.state = 'logout';
    this.output.end();
    const socket = this.socket;
    setTimeout(() => socket.destroy(), 2000).unref();
    void this.cleanup();
  }

  private async cleanup(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.idleSweep?.delete(this);
    this.releaseLiterals();
    this.input.close();
    const user = this.user;
    try {
      if (user !== null && this.selected !== null) await this.mailbox().unselect();
      if (user !== null && this.notifyGroups !== null) await this.mailbox().watch(false);
    } catch (err) {
      this.log.debug({ err }, 'unselect at logout failed');
    } finally {
      if (user !== null && this.retained) this.deps.backend.release(user);
      this.selected = null;
      this.resolveClosed();
    }
  }

  // ---------------------------------------------------------------- folder events

  private async onFolderEvent(event: FolderEvent): Promise<void> {
    if (event.kind === 'status' || event.kind === 'mailbox') return this.onWatchedChange(event);
    const folder = this.selected;
    if (folder === null || event.folder !== (folder.sourceName ?? folder.name)) return;
    if (event.kind === 'expunged') for (const uid of event.uids) if (folder.messages.has(uid)) folder.vanishing.add(uid);
    this.pendingEvents.push(event);
    if (!this.idling) return;
    await this.flushEvents(true);
    if (this.selected !== null && this.selected.searchUpdates.length > 0) await refreshSearchUpdates(this, this.selected);
  }

  /** NOTIFY: a change in a folder this session has not selected, sent as it comes (RFC 5465 §5). */
  private async onWatchedChange(event: FolderEvent): Promise<void> {
    if (this.notifyGroups === null || this.state === 'logout') return;
    if (event.kind === 'status' && event.folder === this.selected?.name) return;
    const response = notificationOf(this.notifyGroups, event);
    if (response !== null) await this.send(response);
  }

  /** Applies one event to the view and tells the client; replays of what SELECT already saw are ignored. */
  private async applyEvent(folder: SelectedFolder, event: FolderEvent): Promise<void> {
    switch (event.kind) {
      case 'added':
        return this.applyAdded(folder, event);
      case 'flags':
        folder.highestModseq = Math.max(folder.highestModseq, event.highestModseq);
        await this.announceKeywords(event.messages);
        for (const message of event.messages) await this.applyFlags(folder, message);
        return;
      case 'expunged': {
        folder.highestModseq = Math.max(folder.highestModseq, event.highestModseq);
        const blobs = event.uids.flatMap((uid) => folder.messages.get(uid)?.blob ?? []);
        await this.reportExpunged(event.uids);
        this.releaseBodies(blobs);
        return;
      }
      case 'gone':
        // Dovecot does the same: the client's view cannot be kept consistent.
        return this.bye('Selected mailbox was deleted or renamed');
    }
  }

  /** Tells the mailbox actor the client has seen these expunges: it may collect the bodies it kept for our FETCHes. */
  private releaseBodies(blobs: string[]): void {
    if (this.user === null || blobs.length === 0) return;
    this.mailbox().expungeSeen(blobs).catch((err: unknown) => this.log.debug({ err }, 'expunge-seen not delivered'));
  }

  private async applyAdded(folder: SelectedFolder, event: Extract<FolderEvent, { kind: 'added' }>): Promise<void> {
    const last = folder.uids.length > 0 ? folder.uids[folder.uids.length - 1]! : 0;
    const fresh = event.messages.filter((m) => m.uid > last).sort((a, b) => a.uid - b.uid);
    folder.uidNext = Math.max(folder.uidNext, event.uidNext);
    folder.highestModseq = Math.max(folder.highestModseq, event.highestModseq);
    if (fresh.length === 0) return;
    await this.announceKeywords(fresh);
    for (const message of fresh) {
      folder.uids.push(message.uid);
      folder.messages.set(message.uid, message);
      if (event.recentTo === this.id && !this.rev2) folder.recent.add(message.uid);
    }
    await this.send({ type: 'exists', count: folder.uids.length });
    if (!this.rev2) await this.send({ type: 'recent', count: folder.recent.size });
  }

  private async applyFlags(folder: SelectedFolder, update: MessageView): Promise<void> {
    const known = folder.messages.get(update.uid);
    if (known === undefined || folder.vanishing.has(update.uid) || update.modseq <= known.modseq) return;
    const message = { ...known, flags: update.flags, modseq: update.modseq };
    folder.messages.set(update.uid, message);
    await this.send({ type: 'fetch', seq: sequenceOf(folder, update.uid), items: this.flagItems(folder, message) });
  }

  /** `UID n FLAGS (...) [MODSEQ (m)]` of an unsolicited or STORE FETCH response. */
  flagItems(folder: SelectedFolder, message: MessageView): FetchResponseItem[] {
    const items = [fetchNumber('UID', message.uid), fetchFlags(visibleFlags(folder, message))];
    if (this.enabled.has('CONDSTORE')) items.push(fetchModSeq(message.modseq));
    return items;
  }
}
