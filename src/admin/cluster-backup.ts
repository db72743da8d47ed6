// `ternmail backup DIR` on a cluster: the primary copies its directory database to
// DIR/directory and each worker its store to DIR/node-N/store, all from snapshots of
// one point in time. A barrier makes the cut: the primary holds its own writes and
// asks every worker to hold theirs (commits queue up, the writes under way finish);
// once all have answered, each process takes its snapshot; then all resume and copy in
// the background. The pause is bounded: a worker that does not answer within HOLD_MS
// fails the backup and every hold is released, and each worker ends its own hold after
// HOLD_MS even if the primary never comes back. DIR/backup.json is written when all
// copies have finished.
import path from 'node:path';
import type { BackupJob, BackupProgress } from './backup.js';
import { writeManifest } from './backup.js';
import type { Logger } from '../core/logger.js';

export interface WorkerBackups {
  /** Every worker of the cluster, running or not. */
  nodes(): number[];
  /** Hold the node's writes (for at most `maxMs`); resolves once its writes under way are on disk. */
  hold(node: number, maxMs: number): Promise<void>;
  release(node: number): Promise<void>;
  /** Take the snapshot (while held) and copy it in the background. */
  start(node: number, dir: string): Promise<BackupProgress>;
  status(node: number): Promise<BackupProgress>;
}

const POLL_MS = 200;
/** Longest pause of the cluster's writes for the cut; also how long a worker holds without news. */
export const HOLD_MS = 5000;

/** Rejects after `ms` unless the promise settles first. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export class ClusterBackup {
  private dir: string | null = null;
  private startedAt = 0;
  private parts: BackupProgress[] = [];
  private watching = false;

  constructor(private readonly primary: BackupJob, private readonly workers: WorkerBackups, private readonly log: Logger) {}

  async start(dir: string): Promise<BackupProgress> {
    if (this.watching) throw new Error(`a backup into ${this.dir} is running`);
    const nodes = this.workers.nodes();
    this.watching = true;
    this.dir = dir;
    try {
      await this.cut(nodes, dir);
    } catch (err) {
      this.watching = false;
      throw err;
    }
    this.startedAt = Date.now();
    void this.watch(nodes, dir);
    return this.status();
  }

  /** The barrier: every process holds its writes, then each takes its snapshot, then all resume. */
  private async cut(nodes: number[], dir: string): Promise<void> {
    const began = Date.now();
    try {
      await this.primary.hold(HOLD_MS);
      await Promise.all(nodes.map((node) => within(this.workers.hold(node, HOLD_MS), HOLD_MS, `worker ${node}`)));
      const held = Date.now();
      await this.primary.start(dir, { folder: 'directory', manifest: false, whileHeld: true });
      this.parts = await Promise.all(nodes.map((node) => within(this.workers.start(node, path.join(dir, `node-${node}`)), HOLD_MS, `worker ${node}`)));
      this.log.info({ dir, workers: nodes.length, pauseMs: Date.now() - began, cutMs: Date.now() - held }, 'cluster backup cut taken');
    } catch (err) {
      this.log.warn({ err, dir }, 'cluster backup not started: the cut failed; writes resume');
      throw new Error(`cluster backup not started: ${(err as Error).message}`);
    } finally {
      // Not waited for: a worker that did not answer may not answer this either (it ends its hold itself).
      this.primary.release();
      for (const node of nodes) {
        this.workers.release(node).catch((err: unknown) => this.log.warn({ err, node }, 'backup release not delivered; the worker ends its hold by itself'));
      }
    }
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
