// The admin API's view of a cluster's queues and counters, whatever joins the nodes
// (a primary and its workers, or nodes of several machines): every running node is
// asked, counters are summed, listings merged, and a control reaches the node that
// holds the queue entry. A node that does not answer is left out, never waited for.
import type { QueueListing } from '../queue/queue.js';
import type { NodeRequest } from './protocol.js';

export type NodeAsk = <T>(node: number, request: NodeRequest) => Promise<T>;

export interface FanOutAdmin {
  /** Every node's numeric stats, summed key by key, on top of `base`. */
  stats(base: Record<string, number>): Promise<Record<string, number>>;
  queueList(): Promise<QueueListing[]>;
  queueFlush(domain?: string): void;
  queueControl(action: 'hold' | 'release' | 'delete' | 'retry', queueId: string): Promise<{ ok: true } | { ok: false; error: string }>;
}

export function fanOutAdmin(nodes: () => number[], ask: NodeAsk): FanOutAdmin {
  return {
    async stats(base) {
      const all = await Promise.all(nodes().map((n) => ask<Record<string, number>>(n, { kind: 'stats' }).catch(() => null)));
      const totals = { ...base };
      for (const stats of all) {
        for (const [key, value] of Object.entries(stats ?? {})) if (typeof value === 'number') totals[key] = (totals[key] ?? 0) + value;
      }
      return totals;
    },
    async queueList() {
      const lists = await Promise.all(nodes().map((n) => ask<QueueListing[]>(n, { kind: 'queue-list' }).catch(() => [])));
      return lists.flat().sort((a, b) => a.arrived - b.arrived);
    },
    queueFlush(domain) {
      for (const n of nodes()) void ask(n, { kind: 'queue-flush', domain }).catch(() => undefined);
    },
    async queueControl(action, queueId) {
      for (const n of nodes()) {
        const reply = await ask<{ ok: boolean; error?: string }>(n, { kind: 'queue-control', action, queueId }).catch(() => null);
        if (reply?.ok) return { ok: true };
      }
      return { ok: false, error: `unknown queue id: ${queueId}` };
    },
  };
}
