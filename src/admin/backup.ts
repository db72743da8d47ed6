// `ternmail backup DIR`: a consistent copy of a running node's store. One LevelDB
// snapshot, taken when the backup starts, is read while the server goes on writing;
// the copy is a LevelDB database of its own (DIR/store) with a manifest
// (DIR/backup.json), which `ternmail restore` puts back into a stopped server's data
// folder. A backup runs in the background; its progress is polled by the CLI. In a
// cluster, the primary first has every process hold its writes (hold/release here),
// so that all the snapshots are taken at one point (src/admin/cluster-backup.ts).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Level } from 'level';
import type { Database } from '../store/database.js';
import type { Logger } from '../core/logger.js';

export interface BackupProgress {
  running: boolean;
  dir: string | null;
  keys: number;
  bytes: number;
  /** LevelDB's estimate of the store's size: the progress bar's end. */
  estimatedBytes: number;
  startedAt: number;
  finishedAt: number | null;
  error: string | null;
}

export const BACKUP_MANIFEST = 'backup.json';
const BATCH_KEYS = 1000;

export class BackupJob {
  private progress: BackupProgress = { running: false, dir: null, keys: 0, bytes: 0, estimatedBytes: 0, startedAt: 0, finishedAt: null, error: null };

  /** While this process holds its writes for a cluster backup's cut: the timer that ends the hold. */
  private holding: NodeJS.Timeout | null = null;

  constructor(private readonly db: Database, private readonly log: Logger) {}

  /**
   * Holds this store's writes for a cluster backup's cut; resolves once the writes under
   * way are on disk. The hold ends by release(), or by itself after `maxMs`, so that a
   * primary gone quiet cannot stop this process's writes for long.
   */
  async hold(maxMs: number): Promise<void> {
    if (this.holding) clearTimeout(this.holding);
    this.holding = setTimeout(() => {
      this.log.warn({ maxMs }, 'backup hold not released in time; writes resume');
      this.release();
    }, maxMs);
    await this.db.hold();
  }

  release(): void {
    if (this.holding) clearTimeout(this.holding);
    this.holding = null;
    this.db.release();
  }

  get held(): boolean {
    return this.holding !== null;
  }

  status(): BackupProgress {
    return { ...this.progress };
  }

  /**
   * Starts a backup into `dir/<folder>` (dir absolute; the folder must not exist yet);
   * refuses while one runs. `manifest: false` leaves DIR/backup.json to the caller (a
   * cluster's primary writes one for all its processes).
   */
  async start(dir: string, options: { folder?: string; manifest?: boolean; whileHeld?: boolean } = {}): Promise<BackupProgress> {
    const folder = options.folder ?? 'store';
    if (this.progress.running) throw new Error(`a backup into ${this.progress.dir} is running`);
    if (!path.isAbsolute(dir)) throw new Error(`backup folder must be an absolute path: ${dir}`);
    if (existsSync(path.join(dir, folder))) throw new Error(`${dir} already holds a backup`);
    if (options.whileHeld && !this.held) throw new Error('the backup hold ended before the snapshot (the cluster backup took too long to pause every process)');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The snapshot is taken here, at once: in a cluster, while every process holds its writes.
    const entries = this.db.snapshotEntries();
    this.progress = { running: true, dir, keys: 0, bytes: 0, estimatedBytes: await this.db.approximateBytes(), startedAt: Date.now(), finishedAt: null, error: null };
    void this.run(entries, dir, folder, options.manifest ?? true);
    return this.status();
  }

  private async run(entries: AsyncIterable<[string, Buffer]>, dir: string, folder: string, manifest: boolean): Promise<void> {
    const target = new Level<string, Buffer>(path.join(dir, folder), { valueEncoding: 'buffer' });
    try {
      await target.open();
      let batch = target.batch();
      for await (const [key, value] of entries) {
        batch.put(key, value);
        this.progress.keys += 1;
        this.progress.bytes += key.length + value.length;
        if (batch.length >= BATCH_KEYS) {
          await batch.write();
          batch = target.batch();
        }
      }
      await batch.write({ sync: true });
      await target.close();
      if (manifest) writeManifest(dir, { layout: 'single', created: this.progress.startedAt, keys: this.progress.keys, bytes: this.progress.bytes });
      this.log.info({ dir, keys: this.progress.keys, bytes: this.progress.bytes }, 'backup written');
    } catch (err) {
      this.progress.error = (err as Error).message;
      this.log.error({ err, dir }, 'backup failed');
      await target.close().catch(() => undefined);
    } finally {
      this.progress.running = false;
      this.progress.finishedAt = Date.now();
    }
  }
}

export interface BackupManifest {
  layout: 'single' | 'cluster';
  /** With layout cluster: DIR/directory and DIR/node-1/store ... DIR/node-N/store. */
  workers?: number;
  created: number;
  keys: number;
  bytes: number;
}

export function writeManifest(dir: string, manifest: BackupManifest): void {
  writeFileSync(path.join(dir, BACKUP_MANIFEST), JSON.stringify({ format: 'ternmail-backup-1', ...manifest }, null, 2) + '\n', { mode: 0o600 });
}
