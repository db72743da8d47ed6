// The free-space watermark: below `minFree` bytes on the data folder's disk, new mail
// is refused before anything is written (452 at MAIL FROM), leaving room for the
// deliveries, flag changes and expunges already under way. statfs at most once a second.
import { statfs } from 'node:fs/promises';

const RECHECK_MS = 1000;

export class FreeSpaceGuard {
  private checkedAt = -Infinity;
  private lastFree = Infinity;
  private inFlight: Promise<number> | null = null;

  constructor(private readonly dir: string, private readonly minFree: number, private readonly now = () => Date.now()) {}

  /** True while the disk has at least minFree bytes available (always true with minFree 0). */
  async hasRoom(): Promise<boolean> {
    if (this.minFree <= 0) return true;
    return (await this.freeBytes()) >= this.minFree;
  }

  /** hasRoom without waiting: undefined when the last reading is too old (hasRoom measures again). */
  hasRoomNow(): boolean | undefined {
    if (this.minFree <= 0) return true;
    if (this.now() - this.checkedAt >= RECHECK_MS) return undefined;
    return this.lastFree >= this.minFree;
  }

  /** Bytes available to this process, from a statfs at most RECHECK_MS old. */
  async freeBytes(): Promise<number> {
    if (this.now() - this.checkedAt < RECHECK_MS) return this.lastFree;
    this.inFlight ??= this.measure().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async measure(): Promise<number> {
    try {
      const stats = await statfs(this.dir);
      this.lastFree = stats.bavail * stats.bsize;
    } catch {
      // A folder that cannot be measured is not a reason to refuse mail; writes still report a full disk.
      this.lastFree = Infinity;
    }
    this.checkedAt = this.now();
    return this.lastFree;
  }
}
