// What a cluster's primary reports at each scrape of /metrics: its workers by state
// and the mailboxes placed on each. Workers report their own families themselves.
import { metrics } from '../core/metrics.js';

export function clusterMetricsCollector(
  workers: () => Array<{ node: number; state: string }>, placements: () => ReadonlyMap<number, number>,
): () => Promise<void> {
  return async () => {
    metrics.clusterNodes.reset();
    for (const state of ['starting', 'running', 'backoff', 'stopped']) metrics.clusterNodes.set({ state }, 0);
    for (const worker of workers()) metrics.clusterNodes.inc({ state: worker.state });
    metrics.clusterPlacements.reset();
    for (const worker of workers()) metrics.clusterPlacements.set({ worker: String(worker.node) }, placements().get(worker.node) ?? 0);
  };
}
