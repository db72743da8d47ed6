// Test support for the log tests: reads a JSON log file line by line, refusing any
// line that is not JSON or that carries a key twice (JSON.parse would hide that).
import { readFileSync } from 'node:fs';
import { python } from '../support/clients.js';

export type LogLine = Record<string, unknown>;

export function readLogLines(file: string): LogLine[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
}

/** The lines of the file that repeat a key, checked by Python's json with object_pairs_hook. */
export async function linesWithDuplicateKeys(file: string): Promise<string[]> {
  const { stdout, code, stderr } = await python(`
import json, sys
def pairs(items):
    keys = [k for k, _ in items]
    dup = sorted(set(k for k in keys if keys.count(k) > 1))
    if dup: raise ValueError(','.join(dup))
    return dict(items)
for line in open(sys.argv[1]):
    try:
        json.loads(line, object_pairs_hook=pairs)
    except ValueError as e:
        print(str(e) + ' :: ' + line.strip())
`, [file]);
  if (code !== 0) throw new Error(stderr);
  return stdout.split('\n').filter(Boolean);
}
