// SORT and THREAD arguments (RFC 5256; ESORT's RETURN options, RFC 5267): the sort
// criteria or threading algorithm, the charset, then search criteria as SEARCH reads them.
import { readSearchCharset, readSearchCriteria, readSearchReturnOptions } from './search-grammar.js';
import { CommandSyntaxError, type TokenReader } from './tokens.js';
import type { SortCommand, SortCriterion, SortKey, ThreadAlgorithm, ThreadCommand } from './types.js';

const SORT_KEYS = new Set<string>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);
const THREAD_ALGORITHMS = new Set<string>(['ORDEREDSUBJECT', 'REFERENCES']);

/** `[RETURN (...)] (criteria) charset search-key...` after `SORT`. */
export function readSortArguments(reader: TokenReader, tag: string, uid: boolean): SortCommand {
  reader.space();
  let returnOptions: SortCommand['returnOptions'];
  if (reader.peekAtom().toUpperCase() === 'RETURN') {
    reader.readKeyword();
    reader.space();
    returnOptions = readSearchReturnOptions(reader);
    reader.space();
  }
  const criteria = readSortCriteria(reader);
  reader.space();
  const charset = readSearchCharset(reader);
  reader.space();
  const search = readSearchCriteria(reader);
  return { tag, name: 'SORT', uid, criteria, charset, search, ...(returnOptions !== undefined ? { returnOptions } : {}) };
}

/** `(` ["REVERSE" SP] key *(SP ["REVERSE" SP] key) `)`. */
function readSortCriteria(reader: TokenReader): SortCriterion[] {
  return reader.readList(() => {
    let word = reader.readKeyword('a sort key');
    let reverse = false;
    if (word === 'REVERSE') {
      reverse = true;
      reader.space();
      word = reader.readKeyword('a sort key');
    }
    if (!SORT_KEYS.has(word)) throw new CommandSyntaxError(`Unknown sort key ${word}`);
    return { key: word as SortKey, reverse };
  }, false);
}

/** `algorithm charset search-key...` after `THREAD`. */
export function readThreadArguments(reader: TokenReader, tag: string, uid: boolean): ThreadCommand {
  reader.space();
  const algorithm = reader.readKeyword('a threading algorithm');
  if (!THREAD_ALGORITHMS.has(algorithm)) throw new CommandSyntaxError(`Unknown threading algorithm ${algorithm}`);
  reader.space();
  const charset = readSearchCharset(reader);
  reader.space();
  const search = readSearchCriteria(reader);
  return { tag, name: 'THREAD', uid, algorithm: algorithm as ThreadAlgorithm, charset, search };
}
