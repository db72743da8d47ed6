// The router: decides which store node holds a new mailbox (the least loaded by
// mailbox count, then stored bytes, then the lowest node id) and records the
// placement in the directory, whose change feed tells every node.
import type { Directory } from '../actors/directory.js';
import type { PlacementRecord } from '../directory/records.js';

export interface StoreNodeLoad {
  node: number;
  state: string;
  stats: { blobBytes: number } | null;
}

export class Router {
  private readonly inFlight = new Map<string, Promise<number>>();
  /** Placements decided but not yet in the directory's cache, per node (first deliveries arrive together). */
  private readonly pending = new Map<number, number>();

  constructor(private readonly directory: Directory, private readonly storeNodes: () => StoreNodeLoad[]) {}

  place(mailboxId: string): Promise<number> {
    const known = this.directory.cache.placements.get(mailboxId);
    if (known) return Promise.resolve(known.node);
    let pending = this.inFlight.get(mailboxId);
    if (!pending) {
      pending = this.choose(mailboxId).finally(() => this.inFlight.delete(mailboxId));
      this.inFlight.set(mailboxId, pending);
    }
    return pending;
  }

  private async choose(mailboxId: string): Promise<number> {
    const node = this.leastLoaded();
    this.pending.set(node, (this.pending.get(node) ?? 0) + 1);
    try {
      const reply = await this.directory.request<PlacementRecord>((replyTo) => ({ type: 'set-placement', mailboxId, node, replyTo }));
      if (!reply.ok) throw new Error(`placement failed: ${reply.error}`);
      return reply.value.node;
    } finally {
      this.pending.set(node, (this.pending.get(node) ?? 1) - 1);
    }
  }

  leastLoaded(): number {
    const all = this.storeNodes();
    if (all.length === 0) throw new Error('no store node');
    const up = all.filter((n) => n.state === 'running');
    const nodes = up.length > 0 ? up : all;
    const counts = new Map<number, number>(nodes.map((n) => [n.node, this.pending.get(n.node) ?? 0]));
    for (const placement of this.directory.cache.placements.values()) {
      if (counts.has(placement.node)) counts.set(placement.node, (counts.get(placement.node) ?? 0) + 1);
    }
    const ranked = [...nodes].sort((a, b) =>
      (counts.get(a.node)! - counts.get(b.node)!) || ((a.stats?.blobBytes ?? 0) - (b.stats?.blobBytes ?? 0)) || (a.node - b.node));
    return ranked[0].node;
  }
}
