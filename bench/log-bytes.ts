// Where a store's bytes on disk come from while LevelDB still holds them in its
// write-ahead log (W2 runs end before the 64 MiB memtable is flushed, so `du` sees the
// log): reads the *.log files of a LevelDB folder (32 KiB blocks of 7-byte-headed
// fragments, each record a write batch: 8-byte sequence, 4-byte count, then per op a
// type byte, varint-prefixed key and, for puts, value) and prints, per key space
// (ternmail's `!space!` key prefix) and op, the count and the key and value bytes.
//   node build/bench/log-bytes.js DATA/store
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const BLOCK = 32 * 1024;
const HEADER = 7;

/** The write batches of one log file, fragments joined. */
function batches(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let parts: Buffer[] = [];
  let pos = 0;
  while (pos + HEADER <= file.length) {
    const left = BLOCK - (pos % BLOCK);
    if (left < HEADER) { pos += left; continue; }
    const length = file.readUInt16LE(pos + 4);
    const type = file[pos + 6];
    if (type === 0 && length === 0) { pos += left; continue; }
    const fragment = file.subarray(pos + HEADER, pos + HEADER + length);
    pos += HEADER + length;
    if (type === 1) out.push(fragment);
    else if (type === 2) parts = [fragment];
    else if (type === 3) parts.push(fragment);
    else if (type === 4) { parts.push(fragment); out.push(Buffer.concat(parts)); parts = []; }
  }
  return out;
}

function varint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

interface Tally { ops: number; keyBytes: number; valueBytes: number }

function main(): void {
  const dir = process.argv[2];
  if (!dir) {
    console.log('Usage: node build/bench/log-bytes.js LEVELDB_FOLDER');
    process.exit(2);
  }
  const tallies = new Map<string, Tally>();
  let fileBytes = 0;
  let batchCount = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const file = readFileSync(path.join(dir, name));
    fileBytes += file.length;
    for (const batch of batches(file)) {
      batchCount += 1;
      const count = batch.readUInt32LE(8);
      let at = 12;
      for (let i = 0; i < count; i++) {
        const put = batch[at++] === 1;
        let keyLength: number;
        [keyLength, at] = varint(batch, at);
        const key = batch.subarray(at, at + keyLength).toString('latin1');
        at += keyLength;
        let valueLength = 0;
        if (put) { [valueLength, at] = varint(batch, at); at += valueLength; }
        const space = key.startsWith('!') ? key.slice(1, key.indexOf('!', 1)) : '(root)';
        const label = `${space} ${put ? 'put' : 'del'}`;
        const tally = tallies.get(label) ?? { ops: 0, keyBytes: 0, valueBytes: 0 };
        tally.ops += 1;
        tally.keyBytes += keyLength;
        tally.valueBytes += valueLength;
        tallies.set(label, tally);
      }
    }
  }
  console.log(`log files ${fileBytes} B, ${batchCount} batches`);
  console.log('space/op          ops    key B      value B  avg key  avg value');
  const rows = [...tallies].sort((a, b) => (b[1].keyBytes + b[1].valueBytes) - (a[1].keyBytes + a[1].valueBytes));
  for (const [label, t] of rows) {
    console.log(`${label.padEnd(12)} ${String(t.ops).padStart(8)} ${String(t.keyBytes).padStart(8)} ${String(t.valueBytes).padStart(12)} ` +
      `${String(Math.round(t.keyBytes / t.ops)).padStart(8)} ${String(Math.round(t.valueBytes / t.ops)).padStart(10)}`);
  }
}

main();
