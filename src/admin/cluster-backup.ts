// `ternmail backup DIR` on a cluster: the primary copies its directory database to
// DIR/directory and each worker its store to DIR/node-N/store, all at once, each from
// one snapshot of its own database; DIR/backup.json is written when all have finished.
// Each copy is consistent in itself; the copies are taken within moments of each
// other, not at one instant, so a rebalance should not run during a backup.
import path from 'node:path';
import type { BackupJob, BackupProgress } from './backup.js';
import { writeManifest } from './backup.js';
import type { Logger } from '../core/logger.js';

export interface WorkerBackups {
  /** Every worker of the cluster, running or not. */
  nodes(): number[];
  start(node: number, dir: string): Promise<BackupProgress>;
  status(node: number): Promise<BackupProgress>;
}

const POLL_MS = 200;

export class ClusterBackup {
  private dir: string | null = null;
  private startedAt = 0;
  private parts: BackupProgress[] = [];
  private watching = false;

  constructor(private readonly primary: BackupJob, private readonly workers: WorkerBackups, private readonly log: Logger) {}

  async start(dir: string): Promise<BackupProgress> {
    if (this.watching) throw new Error(`a backup into ${this.dir} is running`);
    const nodes = this.workers.nodes();
    await this.primary.start(dir, { folder: 'directory', manifest: false });
    this.dir = dir;
    this.startedAt = Date.now();
    this.parts = await Promise.all(nodes.map((node) => this.workers.start(node, path.join(dir, `node-${node}`))));
    this.watching = true;
    void this.watch(nodes, dir);
    return this.status();
  }

  private async watch(nodes: number[], dir: string): Promise<void> {
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        this.parts = await Promise.all(nodes.map((node) => this.workers.status(node)));
        const all = [this.primary.status(), ...this.parts];
        if (all.some((p) => p.running)) continue;
        if (all.every((p) => p.error === null)) {
          writeManifest(dir, { layout: 'cluster', workers: nodes.length, created: this.startedAt, keys: sum(all, 'keys'), bytes: sum(all, 'bytes') });
          this.log.info({ dir, workers: nodes.length, keys: sum(all, 'keys') }, 'cluster backup written');
        }
        return;
      }
    } catch (err) {
      this.parts.push({ ...this.primary.status(), running: false, error: `worker unreachable: ${(err as Error).message}` });
    } finally {
      this.watching = false;
    }
  }

  status(): BackupProgress {
    const all = [this.primary.status(), ...this.parts];
    return {
      running: this.watching || all.some((p) => p.running), dir: this.dir,
      keys: sum(all, 'keys'), bytes: sum(all, 'bytes'), estimatedBytes: sum(all, 'estimatedBytes'),
      startedAt: this.startedAt, finishedAt: this.watching ? null : Date.now(),
      error: all.find((p) => p.error !== null)?.error ?? null,
    };
  }
}

function sum(parts: BackupProgress[], field: 'keys' | 'bytes' | 'estimatedBytes'): number {
  return parts.reduce((n, p) => n + p[field], 0);
}
