// Random hex for ids made once per message (queue ids, upload storage ids): one
// randomFillSync of 4 KiB serves hundreds of ids instead of one system call each
// (two per W1 message showed as 1.3 % of the main thread). Same source, same bits.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let used = pool.length;

/** `bytes` random bytes (at most 64) as lowercase hex. */
export function randomHex(bytes: number): string {
  if (bytes > 64) throw new RangeError('randomHex serves at most 64 bytes');
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
