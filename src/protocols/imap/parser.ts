// Streaming IMAP command parser: bytes in (any chunking), typed events out.
// push() buffers, next() returns one event at a time so the session decides,
// between events, whether the next line is a command or a raw line (IDLE, SASL).

import { decodeUtf8, readMailbox, readSequenceSet, type ArgumentContext } from './arguments.js';
import { readFetchArguments, readStoreArguments } from './fetch-grammar.js';
import { CommandFramer, commandHead, type CommandFrame } from './framer.js';
import {
  readAppendArguments,
  readCreateArguments,
  readListArguments,
  readLsubArguments,
  readSelectArguments,
  readStatusArguments,
} from './mailbox-grammar.js';
import { readSearchArguments } from './search-grammar.js';
import { CommandSyntaxError, isAstringChar, TokenReader } from './tokens.js';
import { readSortArguments, readThreadArguments } from './sort-grammar.js';
import { readGetMetadataArguments, readSetMetadataArguments } from './metadata-grammar.js';
import { readNotifyArguments } from './notify-grammar.js';
import type { ImapCommand, ImapParserEvent, NoArgumentCommandName, ParseErrorEvent } from './types.js';

export interface ImapParserOptions {
  /** Bytes of command text, literals excluded (default 64 KiB). */
  maxLineLength?: number;
  /** Total literal bytes of one non-APPEND command (default 64 KiB). */
  maxLiteralSize?: number;
  /** Total literal bytes of one APPEND (default 50 MiB). */
  maxAppendSize?: number;
  /** UTF8=ACCEPT already enabled (can be changed later with `utf8Accept`). */
  utf8Accept?: boolean;
  /**
   * Also return a `continuation` event (with `nonSynchronizing`) when a LITERAL+ literal
   * is announced, before its bytes are read, so the session can refuse it (default false).
   */
  reportNonSynchronizing?: boolean;
  /** LITERAL- (RFC 7888): non-synchronizing literals above this many bytes are BAD [TOOBIG]; unbounded when absent (LITERAL+). */
  maxNonSyncLiteral?: number;
}

export const DEFAULT_PARSER_LIMITS = {
  maxLineLength: 64 * 1024,
  maxLiteralSize: 64 * 1024,
  maxAppendSize: 50 * 1024 * 1024,
} as const;

/**
 * Usage: on every socket chunk call `push(chunk)`, then `next()` until it
 * returns undefined, handling each event in order:
 * - `command`: run it.
 * - `continuation`: the client announced a synchronizing literal and waits;
 *   write `+ Ready` and keep feeding bytes, or refuse with a tagged NO/BAD and
 *   call `abortCommand()`. With `nonSynchronizing` (option reportNonSynchronizing)
 *   the bytes are already on their way: accept silently or close the connection.
 * - `error`: write `<tag> BAD|NO [code] text` (or `* BAD` without a tag);
 *   the parser already skipped the broken command.
 * - `line`: a raw line, returned only after `expectRawLine()`.
 * Because events are pulled, a session that handles a command asynchronously
 * simply stops pulling until it is done; `bufferedBytes` tells it how much
 * unread input is waiting (pause the socket if that grows).
 */
export class ImapParser {
  /** UTF8=ACCEPT (RFC 6855): mailbox names are UTF-8 instead of modified UTF-7. */
  utf8Accept: boolean;
  private readonly framer: CommandFramer;
  private rawLineExpected = false;

  constructor(options: ImapParserOptions = {}) {
    this.utf8Accept = options.utf8Accept ?? false;
    this.framer = new CommandFramer({
      maxLineLength: options.maxLineLength ?? DEFAULT_PARSER_LIMITS.maxLineLength,
      maxLiteralSize: options.maxLiteralSize ?? DEFAULT_PARSER_LIMITS.maxLiteralSize,
      maxAppendSize: options.maxAppendSize ?? DEFAULT_PARSER_LIMITS.maxAppendSize,
      reportNonSynchronizing: options.reportNonSynchronizing ?? false,
      ...(options.maxNonSyncLiteral !== undefined ? { maxNonSyncLiteral: options.maxNonSyncLiteral } : {}),
    });
  }

  /** Feed bytes as they arrive; never throws. */
  push(chunk: Buffer): void {
    this.framer.push(chunk);
  }

  /** The next event, or undefined when more input is needed. */
  next(): ImapParserEvent | undefined {
    const output = this.framer.next(this.rawLineExpected);
    if (output === undefined) return undefined;
    if (output.type === 'error') this.rawLineExpected = false;
    if (output.type !== 'frame') return output;
    if (this.rawLineExpected) {
      this.rawLineExpected = false;
      return { type: 'line', line: output.frame.texts[0]!.toString('latin1') };
    }
    return parseCommandFrame(output.frame, { utf8: this.utf8Accept });
  }

  /**
   * Return the next line as a `line` event instead of parsing it as a command:
   * call after answering IDLE with `+ idling` (to read DONE) and after every
   * AUTHENTICATE challenge. Applies to one line only.
   */
  expectRawLine(): void {
    this.rawLineExpected = true;
  }

  /** Drop the command whose synchronizing literal the session refused. */
  abortCommand(): void {
    this.framer.abortCommand();
  }

  /** Input not yet turned into events, when between two commands (else null); it stays buffered. */
  unconsumed(): Buffer | null {
    if (this.rawLineExpected) return null;
    return this.framer.unconsumed();
  }

  /** Input received but not yet turned into events. */
  get bufferedBytes(): number {
    return this.framer.bufferedBytes;
  }
}

/** Parse one complete frame into a command or an error event. */
export function parseCommandFrame(frame: CommandFrame, context: ArgumentContext): ImapParserEvent {
  const reader = new TokenReader(frame);
  let tag: string | null = null;
  try {
    tag = readTag(reader);
    reader.space();
    return { type: 'command', command: readCommand(reader, tag, context) };
  } catch (error) {
    if (!(error instanceof CommandSyntaxError)) throw error;
    return syntaxErrorEvent(error, tag, commandHead(frame.texts[0]!).command);
  }
}

function syntaxErrorEvent(error: CommandSyntaxError, tag: string | null, command: string): ParseErrorEvent {
  const event: ParseErrorEvent = { type: 'error', tag, command, response: error.response, text: error.message };
  if (error.code !== undefined) event.code = error.code;
  return event;
}

function readTag(reader: TokenReader): string {
  const tag = reader.readWhile((byte) => isAstringChar(byte) && byte !== 0x2b);
  if (tag === '') throw new CommandSyntaxError('Missing or invalid tag');
  return tag;
}

const NO_ARGUMENT_COMMANDS = new Set<string>([
  'CAPABILITY',
  'NOOP',
  'LOGOUT',
  'STARTTLS',
  'CHECK',
  'CLOSE',
  'UNSELECT',
  'IDLE',
  'NAMESPACE',
]);

type CommandReader = (reader: TokenReader, tag: string, context: ArgumentContext) => ImapCommand;

const COMMAND_READERS: Record<string, CommandReader> = {
  AUTHENTICATE: readAuthenticate,
  LOGIN: readLogin,
  SELECT: (reader, tag, context) => readSelectArguments(reader, tag, 'SELECT', context),
  EXAMINE: (reader, tag, context) => readSelectArguments(reader, tag, 'EXAMINE', context),
  CREATE: readCreateArguments,
  DELETE: (reader, tag, context) => readMailboxOnly(reader, tag, 'DELETE', context),
  SUBSCRIBE: (reader, tag, context) => readMailboxOnly(reader, tag, 'SUBSCRIBE', context),
  UNSUBSCRIBE: (reader, tag, context) => readMailboxOnly(reader, tag, 'UNSUBSCRIBE', context),
  RENAME: readRename,
  LIST: readListArguments,
  LSUB: readLsubArguments,
  STATUS: readStatusArguments,
  APPEND: readAppendArguments,
  EXPUNGE: (reader, tag) => endOf(reader, { tag, name: 'EXPUNGE', uid: false }),
  SEARCH: (reader, tag) => readSearchArguments(reader, tag, false),
  SORT: (reader, tag) => readSortArguments(reader, tag, false),
  THREAD: (reader, tag) => readThreadArguments(reader, tag, false),
  CANCELUPDATE: (reader, tag) => {
    const tags: string[] = [];
    while (reader.spaceFollows()) tags.push(reader.readString('a search tag').toString('latin1'));
    if (tags.length === 0) throw new CommandSyntaxError('CANCELUPDATE needs a tag');
    return endOf(reader, { tag, name: 'CANCELUPDATE', tags });
  },
  FETCH: (reader, tag) => readFetchArguments(reader, tag, false),
  STORE: (reader, tag) => readStoreArguments(reader, tag, false),
  COPY: (reader, tag, context) => readCopyMove(reader, tag, 'COPY', false, context),
  MOVE: (reader, tag, context) => readCopyMove(reader, tag, 'MOVE', false, context),
  UID: readUidCommand,
  ID: readId,
  ENABLE: readEnable,
  GETQUOTA: readGetQuota,
  GETQUOTAROOT: (reader, tag, context) => {
    reader.space();
    return endOf(reader, { tag, name: 'GETQUOTAROOT', mailbox: readMailbox(reader, context) });
  },
  SETQUOTA: readSetQuota,
  GETMETADATA: readGetMetadataArguments,
  NOTIFY: readNotifyArguments,
  SETMETADATA: readSetMetadataArguments,
  GETACL: (reader, tag, context) => readAclCommand(reader, tag, 'GETACL', context),
  MYRIGHTS: (reader, tag, context) => readAclCommand(reader, tag, 'MYRIGHTS', context),
  DELETEACL: (reader, tag, context) => readAclCommand(reader, tag, 'DELETEACL', context),
  LISTRIGHTS: (reader, tag, context) => readAclCommand(reader, tag, 'LISTRIGHTS', context),
  SETACL: readSetAcl,
  COMPRESS: (reader, tag) => {
    reader.space();
    return endOf(reader, { tag, name: 'COMPRESS', mechanism: reader.readKeyword('a compression mechanism') });
  },
};

function readCommand(reader: TokenReader, tag: string, context: ArgumentContext): ImapCommand {
  const name = reader.readKeyword('a command name');
  if (NO_ARGUMENT_COMMANDS.has(name)) return endOf(reader, { tag, name: name as NoArgumentCommandName });
  const readArguments = COMMAND_READERS[name];
  if (readArguments === undefined) throw new CommandSyntaxError(`Unknown command ${name}`);
  return readArguments(reader, tag, context);
}

function endOf<T extends ImapCommand>(reader: TokenReader, command: T): T {
  reader.expectEnd();
  return command;
}

/** `UID COPY|MOVE|FETCH|SEARCH|STORE|EXPUNGE ...`. */
function readUidCommand(reader: TokenReader, tag: string, context: ArgumentContext): ImapCommand {
  reader.space();
  const name = reader.readKeyword('a UID command');
  switch (name) {
    case 'FETCH':
      return readFetchArguments(reader, tag, true);
    case 'SEARCH':
      return readSearchArguments(reader, tag, true);
    case 'SORT':
      return readSortArguments(reader, tag, true);
    case 'THREAD':
      return readThreadArguments(reader, tag, true);
    case 'STORE':
      return readStoreArguments(reader, tag, true);
    case 'COPY':
    case 'MOVE':
      return readCopyMove(reader, tag, name, true, context);
    case 'EXPUNGE':
      reader.space();
      return endOf(reader, { tag, name: 'EXPUNGE', uid: true, uids: readSequenceSet(reader) });
    default:
      throw new CommandSyntaxError(`Unknown UID command ${name}`);
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `AUTHENTICATE mechanism [initial-response]` (SASL-IR: `=` is an empty response). */
function readAuthenticate(reader: TokenReader, tag: string): ImapCommand {
  reader.space();
  const mechanism = reader.readKeyword('a SASL mechanism');
  if (!reader.spaceFollows()) return endOf(reader, { tag, name: 'AUTHENTICATE', mechanism });
  const response = reader.readAtom('an initial response');
  if (response !== '=' && !BASE64.test(response)) throw new CommandSyntaxError('Invalid base64 initial response');
  return endOf(reader, { tag, name: 'AUTHENTICATE', mechanism, initialResponse: response === '=' ? '' : response });
}

function readLogin(reader: TokenReader, tag: string): ImapCommand {
  reader.space();
  const username = decodeUtf8(reader.readAstring('a user name'), 'user name');
  reader.space();
  const password = decodeUtf8(reader.readAstring('a password'), 'password');
  return endOf(reader, { tag, name: 'LOGIN', username, password });
}

function readMailboxOnly(
  reader: TokenReader,
  tag: string,
  name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE',
  context: ArgumentContext,
): ImapCommand {
  reader.space();
  return endOf(reader, { tag, name, mailbox: readMailbox(reader, context) });
}

function readRename(reader: TokenReader, tag: string, context: ArgumentContext): ImapCommand {
  reader.space();
  const from = readMailbox(reader, context);
  reader.space();
  return endOf(reader, { tag, name: 'RENAME', from, to: readMailbox(reader, context) });
}

function readCopyMove(
  reader: TokenReader,
  tag: string,
  name: 'COPY' | 'MOVE',
  uid: boolean,
  context: ArgumentContext,
): ImapCommand {
  reader.space();
  const sequence = readSequenceSet(reader);
  reader.space();
  return endOf(reader, { tag, name, uid, sequence, mailbox: readMailbox(reader, context) });
}

/** `ID NIL` or `ID ("name" "value" ...)` (RFC 2971). */
function readId(reader: TokenReader, tag: string): ImapCommand {
  reader.space();
  if (reader.peekChar() !== '(') {
    if (reader.readKeyword('NIL or a list') !== 'NIL') throw new CommandSyntaxError('Expected NIL or a list');
    return endOf(reader, { tag, name: 'ID', parameters: null });
  }
  const parameters: Array<[string, string | null]> = [];
  reader.readList(() => {
    const field = decodeUtf8(reader.readString('an ID field'), 'ID field');
    reader.space();
    const value = reader.readNString('an ID value');
    parameters.push([field, value === null ? null : decodeUtf8(value, 'ID value')]);
  });
  return endOf(reader, { tag, name: 'ID', parameters });
}

function readEnable(reader: TokenReader, tag: string): ImapCommand {
  const capabilities: string[] = [];
  while (reader.spaceFollows()) capabilities.push(reader.readKeyword('a capability'));
  if (capabilities.length === 0) throw new CommandSyntaxError('ENABLE needs at least one capability');
  return endOf(reader, { tag, name: 'ENABLE', capabilities });
}

function readGetQuota(reader: TokenReader, tag: string): ImapCommand {
  reader.space();
  const root = decodeUtf8(reader.readAstring('a quota root'), 'quota root');
  return endOf(reader, { tag, name: 'GETQUOTA', root });
}

/** `GETACL|MYRIGHTS mailbox`, `DELETEACL|LISTRIGHTS mailbox identifier` (RFC 4314 §3). */
function readAclCommand(
  reader: TokenReader, tag: string, name: 'GETACL' | 'MYRIGHTS' | 'DELETEACL' | 'LISTRIGHTS', context: ArgumentContext,
): ImapCommand {
  reader.space();
  const mailbox = readMailbox(reader, context);
  if (name === 'GETACL' || name === 'MYRIGHTS') return endOf(reader, { tag, name, mailbox });
  reader.space();
  return endOf(reader, { tag, name, mailbox, identifier: decodeUtf8(reader.readAstring('an identifier'), 'identifier') });
}

/** `SETACL mailbox identifier [+|-]rights` (RFC 4314 §3.1). */
function readSetAcl(reader: TokenReader, tag: string, context: ArgumentContext): ImapCommand {
  reader.space();
  const mailbox = readMailbox(reader, context);
  reader.space();
  const identifier = decodeUtf8(reader.readAstring('an identifier'), 'identifier');
  reader.space();
  const text = decodeUtf8(reader.readAstring('rights'), 'rights');
  const modifier = text.startsWith('+') || text.startsWith('-') ? (text[0] as '+' | '-') : '';
  return endOf(reader, { tag, name: 'SETACL', mailbox, identifier, modifier, rights: text.slice(modifier.length) });
}

/** `SETQUOTA root (STORAGE 512 MESSAGE 1000)` (RFC 9208). */
function readSetQuota(reader: TokenReader, tag: string): ImapCommand {
  reader.space();
  const root = decodeUtf8(reader.readAstring('a quota root'), 'quota root');
  reader.space();
  const limits: Array<{ resource: string; limit: number }> = [];
  reader.readList(() => {
    const resource = reader.readKeyword('a resource name');
    reader.space();
    limits.push({ resource, limit: reader.readNumber64('a resource limit') });
  });
  return endOf(reader, { tag, name: 'SETQUOTA', root, limits });
}
