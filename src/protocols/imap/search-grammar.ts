// SEARCH arguments (RFC 3501 §6.4.4, RFC 4731 ESEARCH RETURN, RFC 5182 SAVE,
// RFC 7162 MODSEQ): `[RETURN (...)] [CHARSET x] key...` into a SearchKey tree
// whose root is one AND node.

import { decodeUtf8, isSequenceSetAhead, readDate, readFlag, readModSeq, readSequenceSet } from './arguments.js';
import { CommandSyntaxError, type TokenReader } from './tokens.js';
import type {
  SearchCommand,
  SearchDateKey,
  SearchFlagKey,
  SearchKey,
  SearchPartial,
  SearchReturnOption,
  SearchTextKey,
} from './types.js';

const FLAG_KEYS = new Set<string>([
  'ALL',
  'SAVEDATESUPPORTED',
  'ANSWERED',
  'DELETED',
  'DRAFT',
  'FLAGGED',
  'NEW',
  'OLD',
  'RECENT',
  'SEEN',
  'UNANSWERED',
  'UNDELETED',
  'UNDRAFT',
  'UNFLAGGED',
  'UNSEEN',
]);
const TEXT_KEYS = new Set<string>(['BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO']);
const DATE_KEYS = new Set<string>(['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE', 'SAVEDBEFORE', 'SAVEDON', 'SAVEDSINCE']);
const RETURN_OPTIONS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'UPDATE']);
const SUPPORTED_CHARSETS = new Set(['US-ASCII', 'UTF-8']);
const ENTRY_TYPES = new Set(['priv', 'shared', 'all']);

/** NOT NOT NOT ... deeper than this is refused rather than recursed into. */
const MAX_NESTING = 64;

/** `SEARCH [RETURN (...)] [CHARSET c] key *(SP key)` after the command name. */
export function readSearchArguments(reader: TokenReader, tag: string, uid: boolean): SearchCommand {
  reader.space();
  const command: SearchCommand = { tag, name: 'SEARCH', uid, criteria: { key: 'AND', operands: [] } };
  const operands: SearchKey[] = [];
  let word = peekWord(reader);
  if (word === 'RETURN') {
    reader.readKeyword();
    reader.space();
    const { options, partial } = readReturnOptionsWithPartial(reader);
    command.returnOptions = options;
    if (partial !== undefined) command.partial = partial;
    reader.space();
    word = peekWord(reader);
  }
  if (word === 'CHARSET') {
    reader.readKeyword();
    reader.space();
    command.charset = readCharset(reader);
    reader.space();
  }
  operands.push(readSearchKey(reader, 0));
  while (reader.spaceFollows()) operands.push(readSearchKey(reader, 0));
  reader.expectEnd();
  command.criteria = { key: 'AND', operands };
  return command;
}

/** `search-key *(SP search-key)` up to the end of the command (SORT, THREAD). */
export function readSearchCriteria(reader: TokenReader): SearchKey {
  const operands: SearchKey[] = [readSearchKey(reader, 0)];
  while (reader.spaceFollows()) operands.push(readSearchKey(reader, 0));
  reader.expectEnd();
  return { key: 'AND', operands };
}

/** ESEARCH's `RETURN (...)` list, for ESORT too. */
export function readSearchReturnOptions(reader: TokenReader): SearchReturnOption[] {
  return readReturnOptions(reader);
}

/** A charset SORT, THREAD or SEARCH accepts; anything else is NO [BADCHARSET]. */
export function readSearchCharset(reader: TokenReader): string {
  return readCharset(reader);
}

function peekWord(reader: TokenReader): string {
  return reader.peekAtom().toUpperCase();
}

function readReturnOptions(reader: TokenReader): SearchReturnOption[] {
  const { options, partial } = readReturnOptionsWithPartial(reader);
  if (partial !== undefined) throw new CommandSyntaxError('PARTIAL is not allowed here');
  return options;
}

/** RETURN's list; PARTIAL low:high (RFC 5267 §4.4) comes back apart. `RETURN ()` is ALL. */
function readReturnOptionsWithPartial(reader: TokenReader): { options: SearchReturnOption[]; partial?: SearchPartial } {
  let partial: SearchPartial | undefined;
  const options: SearchReturnOption[] = [];
  reader.readList(() => {
    const option = reader.readKeyword('a RETURN option');
    if (option === 'PARTIAL') {
      reader.space();
      partial = readPartialRange(reader);
      return;
    }
    if (!RETURN_OPTIONS.has(option)) throw new CommandSyntaxError(`Unknown RETURN option ${option}`);
    options.push(option as SearchReturnOption);
  });
  if (options.length === 0 && partial === undefined) options.push('ALL');
  return partial === undefined ? { options } : { options, partial };
}

/** `n:m`, both positive numbers, no `*`; given either way round. */
function readPartialRange(reader: TokenReader): SearchPartial {
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(reader.readAtom('a partial range'));
  const [first, second] = match === null ? [0, 0] : [Number(match[1]), Number(match[2])];
  if (first < 1 || second < 1 || first > 0xffffffff || second > 0xffffffff) throw new CommandSyntaxError('Invalid PARTIAL range');
  return { low: Math.min(first, second), high: Math.max(first, second) };
}

function readCharset(reader: TokenReader): string {
  const charset = reader.readAstring('a charset').toString('latin1').toUpperCase();
  if (!SUPPORTED_CHARSETS.has(charset)) {
    throw new CommandSyntaxError(`Charset ${charset} not supported`, 'NO', 'BADCHARSET');
  }
  return charset;
}

function readSearchKey(reader: TokenReader, depth: number): SearchKey {
  if (depth > MAX_NESTING) throw new CommandSyntaxError('Search criteria nested too deeply');
  if (reader.peekChar() === '(') {
    return { key: 'AND', operands: reader.readList(() => readSearchKey(reader, depth + 1), false) };
  }
  if (isSequenceSetAhead(reader)) return { key: 'SEQUENCE', set: readSequenceSet(reader) };
  const key = reader.readKeyword('a search key');
  if (FLAG_KEYS.has(key)) return { key: key as SearchFlagKey };
  reader.space();
  if (TEXT_KEYS.has(key)) return { key: key as SearchTextKey, value: readSearchString(reader) };
  if (DATE_KEYS.has(key)) return { key: key as SearchDateKey, date: readDate(reader) };
  return readKeyWithArguments(reader, key, depth);
}

function readKeyWithArguments(reader: TokenReader, key: string, depth: number): SearchKey {
  switch (key) {
    case 'HEADER': {
      const field = reader.readAstring('a header field name').toString('latin1');
      reader.space();
      return { key: 'HEADER', field, value: readSearchString(reader) };
    }
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { key, flag: readFlag(reader) };
    case 'LARGER':
    case 'SMALLER':
      return { key, size: reader.readNumber('a size') };
    case 'UID':
      return { key: 'UID', set: readSequenceSet(reader) };
    case 'NOT':
      return { key: 'NOT', operand: readSearchKey(reader, depth + 1) };
    case 'OR': {
      const left = readSearchKey(reader, depth + 1);
      reader.space();
      return { key: 'OR', left, right: readSearchKey(reader, depth + 1) };
    }
    case 'MODSEQ':
      return readModSeqKey(reader);
    case 'EMAILID':
    case 'THREADID': {
      const id = reader.readAtom('an object id');
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) throw new CommandSyntaxError('Invalid object id');
      return { key, id };
    }
    default:
      throw new CommandSyntaxError(`Unknown search key ${key}`);
  }
}

/** `MODSEQ [entry-name SP entry-type-req SP] mod-sequence-valzer`. */
function readModSeqKey(reader: TokenReader): SearchKey {
  if (!reader.isQuotedAhead()) return { key: 'MODSEQ', modSeq: readModSeq(reader) };
  const name = reader.readQuoted().toString('latin1');
  reader.space();
  const type = reader.readAtom('an entry type').toLowerCase();
  if (!ENTRY_TYPES.has(type)) throw new CommandSyntaxError('Invalid MODSEQ entry type');
  reader.space();
  return { key: 'MODSEQ', modSeq: readModSeq(reader), entry: { name, type: type as 'priv' | 'shared' | 'all' } };
}

function readSearchString(reader: TokenReader): string {
  return decodeUtf8(reader.readAstring('a search string'), 'search string');
}
