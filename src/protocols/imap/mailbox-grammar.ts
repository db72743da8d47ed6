// Arguments of the mailbox commands with options: SELECT/EXAMINE (CONDSTORE,
// QRESYNC), CREATE (USE), LIST (LIST-EXTENDED, SPECIAL-USE, LIST-STATUS),
// LSUB, STATUS and APPEND (flags, date-time, literal or literal8).

import {
  decodeListPattern,
  readFlag,
  readFlagList,
  readMailbox,
  readModSeq,
  readSequenceSet,
  readStatusItems,
  type ArgumentContext,
} from './arguments.js';
import { parseDateTime } from './dates.js';
import { CommandSyntaxError, type TokenReader } from './tokens.js';
import type {
  AppendCommand,
  AppendMessage,
  CatenatePart,
  CreateCommand,
  ListCommand,
  ListReturnOptions,
  ListSelectionOption,
  LsubCommand,
  QresyncParameters,
  SelectCommand,
  StatusCommand,
} from './types.js';

/** `SELECT mailbox [(CONDSTORE | QRESYNC (...))]`; condstore is true for either. */
export function readSelectArguments(
  reader: TokenReader,
  tag: string,
  name: 'SELECT' | 'EXAMINE',
  context: ArgumentContext,
): SelectCommand {
  reader.space();
  const command: SelectCommand = { tag, name, mailbox: readMailbox(reader, context), condstore: false };
  if (reader.spaceFollows()) {
    reader.readList(() => readSelectParameter(reader, command), false);
  }
  reader.expectEnd();
  return command;
}

function readSelectParameter(reader: TokenReader, command: SelectCommand): void {
  const parameter = reader.readKeyword('a select parameter');
  if (parameter === 'CONDSTORE') {
    command.condstore = true;
    return;
  }
  if (parameter !== 'QRESYNC') throw new CommandSyntaxError(`Unknown select parameter ${parameter}`);
  reader.space();
  command.condstore = true;
  command.qresync = readQresyncParameters(reader);
}

/** `(uidvalidity modseq [known-uids] [(known-seqs known-uids)])`. */
function readQresyncParameters(reader: TokenReader): QresyncParameters {
  reader.expect('(');
  const uidValidity = reader.readNonZeroNumber('a UIDVALIDITY');
  reader.space();
  const parameters: QresyncParameters = { uidValidity, modSeq: readModSeq(reader) };
  if (reader.spaceFollows() && reader.peekChar() !== '(') {
    parameters.knownUids = readSequenceSet(reader);
    if (!reader.spaceFollows()) {
      reader.expect(')');
      return parameters;
    }
  }
  if (reader.peekChar() === '(') {
    reader.expect('(');
    const sequences = readSequenceSet(reader);
    reader.space();
    parameters.sequenceMatch = { sequences, uids: readSequenceSet(reader) };
    reader.expect(')');
  }
  reader.expect(')');
  return parameters;
}

/** `CREATE mailbox [(USE (\Drafts ...))]`. */
export function readCreateArguments(reader: TokenReader, tag: string, context: ArgumentContext): CreateCommand {
  reader.space();
  const command: CreateCommand = { tag, name: 'CREATE', mailbox: readMailbox(reader, context) };
  if (reader.spaceFollows()) {
    reader.readList(() => {
      if (reader.readKeyword('a create parameter') !== 'USE') throw new CommandSyntaxError('Unknown create parameter');
      reader.space();
      command.specialUse = readFlagList(reader);
    }, false);
  }
  reader.expectEnd();
  return command;
}

const SELECTION_OPTIONS = new Set<string>(['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE']);

/** `LIST [(selection)] reference pattern-or-(patterns) [RETURN (options)]`. */
export function readListArguments(reader: TokenReader, tag: string, context: ArgumentContext): ListCommand {
  reader.space();
  const command: ListCommand = {
    tag,
    name: 'LIST',
    reference: '',
    patterns: [],
    selection: [],
    returnOptions: { subscribed: false, children: false, specialUse: false },
    extended: false,
  };
  if (reader.peekChar() === '(') {
    command.extended = true;
    command.selection = readSelectionOptions(reader);
    reader.space();
  }
  const reference = decodeListPattern(reader.readAstring('a reference name'), context);
  reader.space();
  let patterns: Array<string | null>;
  if (reader.peekChar() === '(') {
    command.extended = true;
    patterns = reader.readList(() => decodeListPattern(reader.readListMailbox(), context), false);
  } else {
    patterns = [decodeListPattern(reader.readListMailbox(), context)];
  }
  // A reference or pattern that is not valid modified UTF-7 matches no mailbox: an empty answer, not an error.
  command.reference = reference ?? '';
  command.patterns = reference === null ? [] : patterns.filter((p): p is string => p !== null);
  if (reader.spaceFollows()) {
    if (reader.readKeyword('RETURN') !== 'RETURN') throw new CommandSyntaxError('Expected RETURN');
    reader.space();
    command.extended = true;
    command.returnOptions = readListReturnOptions(reader);
  }
  reader.expectEnd();
  return command;
}

function readSelectionOptions(reader: TokenReader): ListSelectionOption[] {
  const options = reader.readList(() => {
    const option = reader.readKeyword('a selection option');
    if (!SELECTION_OPTIONS.has(option)) throw new CommandSyntaxError(`Unknown selection option ${option}`);
    return option as ListSelectionOption;
  });
  // RFC 5258 §3: REMOTE only widens the set; RECURSIVEMATCH needs an option that filters it.
  if (options.includes('RECURSIVEMATCH') && !options.some((o) => o !== 'RECURSIVEMATCH' && o !== 'REMOTE')) {
    throw new CommandSyntaxError('RECURSIVEMATCH needs another selection option');
  }
  return options;
}

function readListReturnOptions(reader: TokenReader): ListReturnOptions {
  const options: ListReturnOptions = { subscribed: false, children: false, specialUse: false };
  reader.readList(() => {
    const option = reader.readKeyword('a return option');
    switch (option) {
      case 'SUBSCRIBED':
        options.subscribed = true;
        return;
      case 'CHILDREN':
        options.children = true;
        return;
      case 'SPECIAL-USE':
        options.specialUse = true;
        return;
      case 'STATUS':
        reader.space();
        options.status = readStatusItems(reader);
        return;
      default:
        throw new CommandSyntaxError(`Unknown return option ${option}`);
    }
  });
  return options;
}

/** `LSUB reference pattern`. */
export function readLsubArguments(reader: TokenReader, tag: string, context: ArgumentContext): LsubCommand {
  reader.space();
  const reference = decodeListPattern(reader.readAstring('a reference name'), context);
  reader.space();
  const pattern = decodeListPattern(reader.readListMailbox(), context);
  reader.expectEnd();
  return { tag, name: 'LSUB', reference: reference ?? '', pattern: reference === null ? null : pattern };
}

/** `STATUS mailbox (items)`. */
export function readStatusArguments(reader: TokenReader, tag: string, context: ArgumentContext): StatusCommand {
  reader.space();
  const mailbox = readMailbox(reader, context);
  reader.space();
  const items = readStatusItems(reader);
  reader.expectEnd();
  return { tag, name: 'STATUS', mailbox, items };
}

/** `APPEND mailbox [(flags)] ["date-time"] literal`. */
export function readAppendArguments(reader: TokenReader, tag: string, context: ArgumentContext): AppendCommand {
  reader.space();
  const mailbox = readMailbox(reader, context);
  reader.space();
  const first = readAppendMessage(reader);
  const more: AppendMessage[] = [];
  // MULTIAPPEND (RFC 3502): further messages, each with its own flags and date.
  while (reader.spaceFollows()) more.push(readAppendMessage(reader));
  reader.expectEnd();
  return { tag, name: 'APPEND', mailbox, ...first, ...(more.length > 0 ? { more } : {}) };
}

/** `(` ("TEXT" SP literal / "URL" SP astring) *(SP ...) `)` (RFC 4469). */
function readCatenateParts(reader: TokenReader): CatenatePart[] {
  return reader.readList((): CatenatePart => {
    const kind = reader.readKeyword('TEXT or URL');
    reader.space();
    if (kind === 'TEXT') {
      if (!reader.isLiteralAhead()) throw new CommandSyntaxError('Expected a literal after TEXT');
      return { kind: 'text', data: reader.readLiteral(true).data };
    }
    if (kind === 'URL') return { kind: 'url', url: reader.readAstring('a URL').toString('latin1') };
    throw new CommandSyntaxError(`Unknown CATENATE part ${kind}`);
  }, false);
}

/** `[flag-list SP] [date-time SP] literal`. */
function readAppendMessage(reader: TokenReader): AppendMessage {
  let flags: string[] = [];
  if (reader.peekChar() === '(') {
    flags = reader.readList(() => readFlag(reader));
    reader.space();
  }
  const message: Omit<AppendMessage, 'message' | 'binary'> = { flags };
  if (reader.isQuotedAhead()) {
    const internalDate = parseDateTime(reader.readQuoted().toString('latin1'));
    if (internalDate === null) throw new CommandSyntaxError('Invalid date-time');
    message.internalDate = internalDate;
    reader.space();
  }
  if (!reader.isLiteralAhead() && reader.peekAtom().toUpperCase() === 'CATENATE') {
    reader.readKeyword();
    reader.space();
    return { ...message, message: Buffer.alloc(0), binary: false, catenate: readCatenateParts(reader) };
  }
  // RFC 6855 §4: `UTF8 (literal8)` carries a message with UTF-8 headers.
  if (!reader.isLiteralAhead() && reader.peekAtom().toUpperCase() === 'UTF8') {
    reader.readKeyword();
    reader.space();
    reader.expect('(');
    if (!reader.isLiteralAhead()) throw new CommandSyntaxError('Expected the message as a literal8');
    const { data, binary } = reader.readLiteral(true);
    reader.expect(')');
    return { ...message, message: data, binary };
  }
  if (!reader.isLiteralAhead()) throw new CommandSyntaxError('Expected the message as a literal');
  const { data, binary } = reader.readLiteral(true);
  return { ...message, message: data, binary };
}
