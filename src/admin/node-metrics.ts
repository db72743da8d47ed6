// What a node reports at each scrape of /metrics: the queue's entries by partition and
// its recipients by destination domain and state, and the store's totals. Summing every mailbox reads
// every account record: past 10,000 mailboxes those totals are refreshed once a minute.
import { metrics } from '../core/metrics.js';

/** The parts of a node's services read here (NodeServices, seen from the access floor). */
export interface MetricsSource {
  stats(options?: { mailboxTotals: boolean }): Promise<{ messages: number; mailboxBytes: number; mailboxes: number; blobs: number; blobBytes: number; sessions: number }>;
  queueList(): Promise<Array<{ held: boolean; partition: number; recipients: Array<{ address: string; state: string }> }>>;
}

const MAILBOX_TOTALS_EVERY_MS = 60_000;
const MAILBOXES_SUMMED_AT_EACH_SCRAPE = 10_000;
/** Destinations beyond this many are summed under domain="other": label sets stay bounded. */
const MAX_DOMAINS = 100;

export function nodeMetricsCollector(source: MetricsSource): () => Promise<void> {
  let totalsAt = 0;
  let mailboxes = 0;
  return async () => {
    const fresh = mailboxes < MAILBOXES_SUMMED_AT_EACH_SCRAPE || Date.now() - totalsAt >= MAILBOX_TOTALS_EVERY_MS;
    const stats = await source.stats({ mailboxTotals: fresh });
    if (fresh) {
      totalsAt = Date.now();
      mailboxes = stats.mailboxes;
      metrics.storeMessages.set(stats.messages);
      metrics.storeMailboxBytes.set(stats.mailboxBytes);
    }
    metrics.openSessions.set(stats.sessions);
    metrics.storeBlobs.set(stats.blobs);
    metrics.storeBlobBytes.set(stats.blobBytes);
    setQueueDepth(await source.queueList());
  };
}

function setQueueDepth(entries: Awaited<ReturnType<MetricsSource['queueList']>>): void {
  metrics.queueEntries.reset();
  for (const entry of entries) metrics.queueEntries.inc({ partition: String(entry.partition) });
  const counts = new Map<string, number>();
  for (const entry of entries) {
    for (const rcpt of entry.recipients) {
      if (rcpt.state === 'done' || rcpt.state === 'failed') continue;
      const domain = rcpt.address.slice(rcpt.address.lastIndexOf('@') + 1).toLowerCase();
      const key = `${domain}\n${entry.held ? 'held' : rcpt.state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  metrics.queueDepth.reset();
  const domains = new Set<string>();
  for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1])) {
    const [domain, state] = key.split('\n');
    if (domains.size >= MAX_DOMAINS && !domains.has(domain)) {
      metrics.queueDepth.inc({ domain: 'other', state }, count);
      continue;
    }
    domains.add(domain);
    metrics.queueDepth.inc({ domain, state }, count);
  }
}
