// The steady-state size of a stopped server's store: what W2's "copies on disk" would be
// once LevelDB has turned its write-ahead log into tables and compacted them (a W2 run
// of 100 messages ends before the 64 MiB memtable is ever flushed, so `du` right after it
// sees the uncompressed log). Opens the folder (the log becomes level-0 tables), compacts
// the whole key range, waits, closes, and opens and closes it once more so that files a
// compaction left behind are removed; prints the folder's bytes before and after.
//   node build/bench/store-settle.js DATA/store      (the server must be stopped)
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Level } from 'level';

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    console.log('usage: node build/bench/store-settle.js DATA/store   (server stopped)');
    process.exit(2);
  }
  const before = folderBytes(dir);
  const db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
  await db.open();
  await (db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange('', '\xff');
  await new Promise((r) => setTimeout(r, 2000));
  await db.close();
  const again = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
  await again.open();
  await again.close();
  console.log(`store-settle: ${before} B before, ${folderBytes(dir)} B settled (log compacted into tables)`);
}

main().catch((err: Error) => {
  console.error(`store-settle: ${err.message}`);
  process.exit(1);
});
