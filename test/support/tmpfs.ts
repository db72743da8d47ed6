// Test support: a real small filesystem (tmpfs) for full-disk tests, and a filler that
// takes its free space. Tests run as root; where mounting is not allowed they skip.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './server.js';

export interface SmallDisk {
  dir: string;
  /** Takes every free byte (a file of zeros); returns its path. */
  fill(): string;
  /** Frees what fill took. */
  free(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `size` (e.g. "16m"), or returns why it could not. */
export function mountSmallDisk(size: string): SmallDisk | string {
  const dir = tempDir('ternmail-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return `cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})`;
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const zeros = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, zeros);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
      // The last partial page.
      try {
        for (;;) writeSync(fd, zeros, 0, 512);
      } catch { /* full */ }
      closeSync(fd);
      return filler;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } catch { /* already gone */ }
    },
  };
}
