// FETCH and STORE arguments (RFC 3501 §6.4.5–6, RFC 3516 BINARY, RFC 7162
// CHANGEDSINCE/VANISHED/UNCHANGEDSINCE): attribute lists with the ALL/FAST/FULL
// macros expanded, BODY[section]<partial>, and store operations.

import { readFlag, readFlagList, readModSeq, readSequenceSet } from './arguments.js';
import { CommandSyntaxError, isAtomChar, type TokenReader } from './tokens.js';
import type { BodySection, FetchCommand, FetchItem, PartialRange, SimpleFetchAttribute, StoreCommand } from './types.js';

const SIMPLE_ATTRIBUTES = new Set<string>([
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
  'EMAILID',
  'THREADID',
  'SAVEDATE',
]);

const MACROS: Record<string, SimpleFetchAttribute[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const SECTION_TEXTS = new Set(['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME']);

/** `FETCH <set> <atts> [(modifiers)]` after the command name; `uid` for UID FETCH. */
export function readFetchArguments(reader: TokenReader, tag: string, uid: boolean): FetchCommand {
  reader.space();
  const sequence = readSequenceSet(reader);
  reader.space();
  const items = readFetchItems(reader);
  const command: FetchCommand = { tag, name: 'FETCH', uid, sequence, items, vanished: false };
  if (reader.spaceFollows()) readFetchModifiers(reader, command);
  reader.expectEnd();
  if (command.vanished && (!uid || command.changedSince === undefined)) {
    throw new CommandSyntaxError('VANISHED requires UID FETCH with CHANGEDSINCE');
  }
  if (uid && !items.some((item) => item.name === 'UID')) items.unshift({ name: 'UID' });
  return command;
}

function readFetchItems(reader: TokenReader): FetchItem[] {
  if (reader.peekChar() === '(') return reader.readList(() => readFetchItem(reader), false);
  const name = readAttributeName(reader);
  const macro = MACROS[name.toUpperCase()];
  if (macro && reader.peekChar() !== '[') return macro.map((attribute) => ({ name: attribute }));
  return [readFetchItemNamed(reader, name)];
}

function readFetchItem(reader: TokenReader): FetchItem {
  return readFetchItemNamed(reader, readAttributeName(reader));
}

/** The attribute name up to `[` or `<` (BODY.PEEK, RFC822.SIZE, ...). */
function readAttributeName(reader: TokenReader): string {
  return reader.readWhile((byte) => isAtomChar(byte) && byte !== 0x5b && byte !== 0x3c);
}

function readFetchItemNamed(reader: TokenReader, rawName: string): FetchItem {
  const name = rawName.toUpperCase();
  if (name === '') throw new CommandSyntaxError('Expected a fetch attribute');
  if (reader.peekChar() !== '[') {
    if (!SIMPLE_ATTRIBUTES.has(name)) throw new CommandSyntaxError(`Unknown fetch attribute ${rawName}`);
    return { name: name as SimpleFetchAttribute };
  }
  switch (name) {
    case 'BODY':
    case 'BODY.PEEK': {
      const section = readSection(reader);
      return { name: 'BODY[]', peek: name === 'BODY.PEEK', section, ...readOptionalPartial(reader) };
    }
    case 'BINARY':
    case 'BINARY.PEEK': {
      const part = readBinaryPart(reader);
      return { name: 'BINARY[]', peek: name === 'BINARY.PEEK', part, ...readOptionalPartial(reader) };
    }
    case 'BINARY.SIZE':
      return { name: 'BINARY.SIZE', part: readBinaryPart(reader) };
    default:
      throw new CommandSyntaxError(`Unknown fetch attribute ${rawName}`);
  }
}

/** `[` [section-spec] `]`. */
function readSection(reader: TokenReader): BodySection {
  reader.expect('[');
  const spec = reader.readWhile((byte) => isAtomChar(byte) && byte !== 0x5b);
  const section = parseSectionSpec(spec);
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
    reader.space();
    section.fields = reader.readList(() => reader.readAstring('a header field name').toString('latin1'), false);
  }
  reader.expect(']');
  return section;
}

function parseSectionSpec(spec: string): BodySection {
  const pieces = spec === '' ? [] : spec.split('.');
  const part: number[] = [];
  while (pieces.length > 0 && /^\d+$/.test(pieces[0]!)) {
    part.push(readPartNumber(pieces.shift()!));
  }
  if (pieces.length === 0) return { part };
  const text = pieces.join('.').toUpperCase();
  if (!SECTION_TEXTS.has(text)) throw new CommandSyntaxError(`Invalid body section ${spec}`);
  if (text === 'MIME' && part.length === 0) throw new CommandSyntaxError('MIME needs a part number');
  return { part, text: text as BodySection['text'] };
}

function readPartNumber(text: string): number {
  const value = Number(text);
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new CommandSyntaxError(`Invalid part number ${text}`);
  return value;
}

/** BINARY sections are part numbers only: `[` [part] `]`. */
function readBinaryPart(reader: TokenReader): number[] {
  reader.expect('[');
  const spec = reader.readWhile((byte) => (byte >= 0x30 && byte <= 0x39) || byte === 0x2e);
  reader.expect(']');
  return spec === '' ? [] : spec.split('.').map(readPartNumber);
}

/** `<offset.length>`. */
function readOptionalPartial(reader: TokenReader): { partial?: PartialRange } {
  if (!reader.consume('<')) return {};
  const offset = reader.readNumber('a partial offset');
  reader.expect('.');
  const length = reader.readNonZeroNumber('a partial length');
  reader.expect('>');
  return { partial: { offset, length } };
}

/** `(CHANGEDSINCE n VANISHED)`. */
function readFetchModifiers(reader: TokenReader, command: FetchCommand): void {
  reader.readList(() => {
    const modifier = reader.readKeyword('a fetch modifier');
    if (modifier === 'CHANGEDSINCE') {
      reader.space();
      command.changedSince = readModSeq(reader);
    } else if (modifier === 'VANISHED') {
      command.vanished = true;
    } else {
      throw new CommandSyntaxError(`Unknown fetch modifier ${modifier}`);
    }
  }, false);
}

const STORE_OPERATIONS: Record<string, StoreCommand['operation']> = { '': 'replace', '+': 'add', '-': 'remove' };

/** `STORE <set> [(UNCHANGEDSINCE n)] [+-]FLAGS[.SILENT] <flags>` after the command name. */
export function readStoreArguments(reader: TokenReader, tag: string, uid: boolean): StoreCommand {
  reader.space();
  const sequence = readSequenceSet(reader);
  reader.space();
  let unchangedSince: bigint | undefined;
  if (reader.peekChar() === '(') {
    reader.readList(() => {
      if (reader.readKeyword('a store modifier') !== 'UNCHANGEDSINCE') throw new CommandSyntaxError('Unknown store modifier');
      reader.space();
      unchangedSince = readModSeq(reader);
    }, false);
    reader.space();
  }
  const sign = reader.consume('+') ? '+' : reader.consume('-') ? '-' : '';
  const item = reader.readKeyword('FLAGS or FLAGS.SILENT');
  if (item !== 'FLAGS' && item !== 'FLAGS.SILENT') throw new CommandSyntaxError('Expected FLAGS or FLAGS.SILENT');
  reader.space();
  const flags = reader.peekChar() === '(' ? readFlagList(reader) : readBareFlags(reader);
  reader.expectEnd();
  const command: StoreCommand = {
    tag,
    name: 'STORE',
    uid,
    sequence,
    operation: STORE_OPERATIONS[sign]!,
    silent: item === 'FLAGS.SILENT',
    flags,
  };
  if (unchangedSince !== undefined) command.unchangedSince = unchangedSince;
  return command;
}

function readBareFlags(reader: TokenReader): string[] {
  const flags = [readFlag(reader)];
  while (reader.spaceFollows()) flags.push(readFlag(reader));
  return flags;
}
