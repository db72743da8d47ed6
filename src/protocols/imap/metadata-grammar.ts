// GETMETADATA and SETMETADATA arguments (RFC 5464 §4.2, §4.3): a mailbox ("" for the
// server's own entries), entry names, GETMETADATA's MAXSIZE and DEPTH options, and
// SETMETADATA's entry/value pairs (NIL removes an entry). Entry names are case-insensitive
// and kept lower-cased; their shape is checked by the command.
import { readMailbox, type ArgumentContext } from './arguments.js';
import { CommandSyntaxError, type TokenReader } from './tokens.js';
import type { GetMetadataCommand, MetadataDepth, SetMetadataCommand } from './types.js';

/** `[SP "(" option *(SP option) ")"] SP mailbox SP (entry / "(" entry *(SP entry) ")")`. */
export function readGetMetadataArguments(reader: TokenReader, tag: string, context: ArgumentContext): GetMetadataCommand {
  reader.space();
  let maxSize: number | undefined;
  let depth: MetadataDepth = '0';
  if (reader.peekChar() === '(') {
    reader.readList(() => {
      const option = reader.readKeyword('a GETMETADATA option');
      reader.space();
      if (option === 'MAXSIZE') maxSize = reader.readNumber('a size');
      else if (option === 'DEPTH') depth = readDepth(reader);
      else throw new CommandSyntaxError(`Unknown GETMETADATA option ${option}`);
    }, false);
    reader.space();
  }
  const mailbox = readMailbox(reader, context);
  reader.space();
  const entries = reader.peekChar() === '(' ? reader.readList(() => readEntry(reader), false) : [readEntry(reader)];
  reader.expectEnd();
  return { tag, name: 'GETMETADATA', mailbox, entries, depth, ...(maxSize !== undefined ? { maxSize } : {}) };
}

/** `SP mailbox SP "(" entry SP value *(SP entry SP value) ")"`. */
export function readSetMetadataArguments(reader: TokenReader, tag: string, context: ArgumentContext): SetMetadataCommand {
  reader.space();
  const mailbox = readMailbox(reader, context);
  reader.space();
  const entries: SetMetadataCommand['entries'] = [];
  reader.readList(() => {
    const entry = readEntry(reader);
    reader.space();
    const value = reader.isLiteralAhead() ? reader.readLiteral(true).data : reader.readNString('a value or NIL');
    entries.push([entry, value]);
  }, false);
  reader.expectEnd();
  return { tag, name: 'SETMETADATA', mailbox, entries };
}

function readEntry(reader: TokenReader): string {
  return reader.readAstring('an entry name').toString('latin1').toLowerCase();
}

function readDepth(reader: TokenReader): MetadataDepth {
  const depth = reader.readAtom('a depth').toLowerCase();
  if (depth !== '0' && depth !== '1' && depth !== 'infinity') throw new CommandSyntaxError('DEPTH is 0, 1 or infinity');
  return depth;
}
