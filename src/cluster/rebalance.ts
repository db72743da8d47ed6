// Cluster rebalance, run by the primary: moves mailboxes from the most to the least
// loaded store node (by mailbox count) until they differ by at most one, one mailbox
// at a time, so it can be stopped safely between two moves. Progress is polled.
// Nodes being drained (across machines: live nodes restarted without the store role)
// first give every mailbox they hold to the least loaded store nodes.
import type { Directory } from '../directory/directory.js';
import type { NodeTransport } from '../transport/transport.js';
import type { NodeRequest } from './protocol.js';
import type { MoveResult } from './mailbox-move.js';

export interface RebalanceProgress {
  running: boolean;
  toMove: number;
  moved: number;
  skipped: number;
  bytes: number;
  startedAt: number;
  finishedAt: number | null;
  stopRequested: boolean;
  lastError: string | null;
}

export class Rebalancer {
  private progress: RebalanceProgress | null = null;

  constructor(
    private readonly directory: Directory,
    private readonly transport: NodeTransport,
    private readonly storeNodes: () => number[],
    private readonly drainingNodes: () => number[] = () => [],
  ) {}

  status(): RebalanceProgress | null {
    return this.progress;
  }

  /** Starts a rebalance unless one runs; answers the progress record. */
  start(): RebalanceProgress {
    if (this.progress?.running) return this.progress;
    const progress: RebalanceProgress = {
      running: true, toMove: 0, moved: 0, skipped: 0, bytes: 0, startedAt: Date.now(), finishedAt: null, stopRequested: false, lastError: null,
    };
    this.progress = progress;
    void this.run(progress).catch((err: Error) => {
      progress.lastError = err.message;
    }).finally(() => {
      progress.running = false;
      progress.finishedAt = Date.now();
    });
    return progress;
  }

  stop(): RebalanceProgress | null {
    if (this.progress?.running) this.progress.stopRequested = true;
    return this.progress;
  }

  /** Mailboxes per store node, and the moves that would even them out. */
  plan(): Array<{ mailboxId: string; from: number; to: number }> {
    const nodes = this.storeNodes();
    const byNode = new Map<number, string[]>(nodes.map((n) => [n, []]));
    for (const p of this.directory.cache.placements.values()) byNode.get(p.node)?.push(p.mailboxId);
    const moves: Array<{ mailboxId: string; from: number; to: number }> = [];
    const draining = new Set(this.drainingNodes().filter((n) => !byNode.has(n)));
    for (const p of this.directory.cache.placements.values()) {
      if (!draining.has(p.node)) continue;
      const least = [...byNode.entries()].sort((a, b) => a[1].length - b[1].length || a[0] - b[0])[0];
      if (!least) break;
      least[1].push(p.mailboxId);
      moves.push({ mailboxId: p.mailboxId, from: p.node, to: least[0] });
    }
    for (;;) {
      const ranked = [...byNode.entries()].sort((a, b) => a[1].length - b[1].length || a[0] - b[0]);
      const [least, most] = [ranked[0], ranked[ranked.length - 1]];
      if (!least || !most || most[1].length - least[1].length <= 1) return moves;
      const mailboxId = most[1].pop()!;
      least[1].push(mailboxId);
      moves.push({ mailboxId, from: most[0], to: least[0] });
    }
  }

  private async run(progress: RebalanceProgress): Promise<void> {
    const moves = this.plan();
    progress.toMove = moves.length;
    for (const move of moves) {
      if (progress.stopRequested) return;
      const result = await this.transport.request<MoveResult>(move.from, { kind: 'move-mailbox', mailboxId: move.mailboxId, to: move.to } satisfies NodeRequest, 300_000)
        .catch((err: Error) => ({ moved: false as const, reason: err.message }));
      if (result.moved) {
        progress.moved += 1;
        progress.bytes += result.bytes;
      } else {
        progress.skipped += 1;
        progress.lastError = `${move.mailboxId}: ${result.reason}`;
      }
    }
  }
}
