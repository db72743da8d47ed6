// Command arguments shared by several IMAP commands: mailbox names (INBOX,
// modified UTF-7 or UTF-8), flags, sequence sets, dates and mod-sequences.
// Each reader consumes tokens from a TokenReader or throws CommandSyntaxError.

import { parseDate } from './dates.js';
import { parseSequenceSet, type SequenceSet } from './sequence-set.js';
import { CommandSyntaxError, type TokenReader } from './tokens.js';
import { decodeModifiedUtf7 } from './utf7.js';
import type { Flag, ImapDate, StatusItem } from './types.js';

/** How strings from the client are turned into names. */
export interface ArgumentContext {
  /** UTF8=ACCEPT enabled: mailbox names are UTF-8, not modified UTF-7. */
  utf8: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text, or a BAD when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new CommandSyntaxError(`Invalid UTF-8 in ${what}`);
  }
}

/** A mailbox name or pattern as sent, decoded to a JS string. */
export function decodeMailboxName(raw: Buffer, context: ArgumentContext): string {
  if (context.utf8) return decodeUtf8(raw, 'mailbox name');
  const decoded = raw.some((byte) => byte >= 0x80) ? null : decodeModifiedUtf7(raw.toString('latin1'));
  // The command is well formed; no mailbox can have this name (Dovecot answers NO too).
  if (decoded === null) throw new CommandSyntaxError('Mailbox name is not valid mUTF-7', 'NO');
  return decoded;
}

/** A LIST/LSUB reference or pattern; null when it is not valid modified UTF-7: it matches nothing. */
export function decodeListPattern(raw: Buffer, context: ArgumentContext): string | null {
  if (context.utf8) return decodeUtf8(raw, 'mailbox pattern');
  return raw.some((byte) => byte >= 0x80) ? null : decodeModifiedUtf7(raw.toString('latin1'));
}

/** `mailbox`: an astring; any case of INBOX becomes `INBOX`. */
export function readMailbox(reader: TokenReader, context: ArgumentContext): string {
  const name = decodeMailboxName(reader.readAstring('a mailbox name'), context);
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

const SYSTEM_FLAGS = new Map(
  ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'].map((flag) => [flag.toUpperCase(), flag]),
);

/** `\Seen` (normalised case), `\Extension`, or a keyword atom. */
export function readFlag(reader: TokenReader): Flag {
  if (reader.consume('\\')) {
    const name = `\\${reader.readAtom('a flag')}`;
    return SYSTEM_FLAGS.get(name.toUpperCase()) ?? name;
  }
  return reader.readAtom('a flag');
}

/** `(` [flag *(SP flag)] `)`. */
export function readFlagList(reader: TokenReader): Flag[] {
  return reader.readList(() => readFlag(reader));
}

function isSequenceChar(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || byte === 0x3a || byte === 0x2c || byte === 0x2a || byte === 0x24;
}

export function readSequenceSet(reader: TokenReader): SequenceSet {
  const set = parseSequenceSet(reader.readWhile(isSequenceChar));
  if (set === null) throw new CommandSyntaxError('Invalid sequence set');
  return set;
}

export function isSequenceSetAhead(reader: TokenReader): boolean {
  const byte = reader.peek();
  return byte !== undefined && isSequenceChar(byte) && byte !== 0x3a && byte !== 0x2c;
}

/** `date = date-text / DQUOTE date-text DQUOTE`. */
export function readDate(reader: TokenReader): ImapDate {
  const text = reader.isQuotedAhead() ? reader.readQuoted().toString('latin1') : reader.readAtom('a date');
  const date = parseDate(text);
  if (date === null) throw new CommandSyntaxError('Invalid date');
  return date;
}

const MAX_MODSEQ = (1n << 63n) - 1n;

/** mod-sequence-valzer: 0 or a positive 63-bit number. */
export function readModSeq(reader: TokenReader): bigint {
  const digits = reader.readWhile((byte) => byte >= 0x30 && byte <= 0x39);
  if (digits === '' || digits.length > 19) throw new CommandSyntaxError('Expected a mod-sequence');
  const value = BigInt(digits);
  if (value > MAX_MODSEQ) throw new CommandSyntaxError('mod-sequence out of range');
  return value;
}

const STATUS_ITEMS = new Set<string>([
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'HIGHESTMODSEQ',
  'SIZE',
  'DELETED',
  'APPENDLIMIT',
  'MAILBOXID',
]);

/** `(` status-att *(SP status-att) `)`. */
export function readStatusItems(reader: TokenReader): StatusItem[] {
  return reader.readList(() => {
    const item = reader.readKeyword('a status item');
    if (!STATUS_ITEMS.has(item)) throw new CommandSyntaxError(`Unknown status item ${item}`);
    return item as StatusItem;
  }, false);
}
