// What the dashboard shows, gathered in one answer (GET /v1/dashboard) so that one
// poll a second keeps the page current: counters for the throughput plots (the page
// takes differences), the queue by destination, cluster workers, blocked logins,
// recent SMTP refusals and the largest mailboxes.
import type { Throughput } from '../core/metrics.js';
import type { RecentRefusal } from '../smtp/refusal-log.js';
import type { QueueListing } from '../queue/queue.js';
import type { BlockedEntry } from '../net/auth-guard.js';

export interface UsageRow {
  address: string;
  messages: number;
  bytes: number;
  quota: number;
}

export interface DashboardSource {
  stats(): Promise<Record<string, number>>;
  queueList(): Promise<QueueListing[]>;
  clusterStatus?: () => unknown;
  auth: { blocked(): BlockedEntry[] };
  dashboard: {
    throughput(): Promise<Throughput>;
    rejections(): Promise<RecentRefusal[]>;
    /** The largest mailboxes; null where this process holds none (a cluster's primary). */
    users(): Promise<UsageRow[] | null>;
  };
}

export interface DestinationRow {
  domain: string;
  recipients: number;
  deferred: number;
  held: number;
  messages: Array<{ id: string; from: string; size: number; arrived: number; held: boolean; recipients: Array<{ address: string; state: string; lastError: string | null }> }>;
}

/** Queue entries grouped by destination domain, largest first. A message to several domains appears under each. */
export function queueByDestination(entries: QueueListing[]): DestinationRow[] {
  const rows = new Map<string, DestinationRow>();
  for (const entry of entries) {
    const waiting = entry.recipients.filter((r) => r.state !== 'done' && r.state !== 'failed');
    for (const domain of new Set(waiting.map((r) => r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase()))) {
      const row = rows.get(domain) ?? { domain, recipients: 0, deferred: 0, held: 0, messages: [] };
      const mine = waiting.filter((r) => r.address.toLowerCase().endsWith(`@${domain}`));
      row.recipients += mine.length;
      row.deferred += mine.filter((r) => r.state === 'deferred').length;
      if (entry.held) row.held += 1;
      row.messages.push({ id: entry.id, from: entry.from, size: entry.size, arrived: entry.arrived, held: entry.held, recipients: mine.map(({ address, state, lastError }) => ({ address, state, lastError })) });
      rows.set(domain, row);
    }
  }
  return [...rows.values()].sort((a, b) => b.recipients - a.recipients || a.domain.localeCompare(b.domain));
}

/**
 * A value recomputed only after 20 times as long as its last computation took (at
 * least `minMs`): summing every mailbox each second would cost a server with millions
 * of them its whole time, and no more than 5% of it this way.
 */
export class Throttled<T> {
  private value: Promise<T> | null = null;
  private freshUntil = 0;

  constructor(private readonly compute: () => Promise<T>, private readonly minMs = 900) {}

  get(now = Date.now()): Promise<T> {
    if (this.value && now < this.freshUntil) return this.value;
    const started = Date.now();
    const value = this.compute();
    this.value = value;
    this.freshUntil = Number.POSITIVE_INFINITY;
    value.then(
      () => (this.freshUntil = Date.now() + Math.max(this.minMs, 20 * (Date.now() - started))),
      () => (this.freshUntil = 0),
    );
    return value;
  }
}

/** The dashboard's answer; `heavy` caches what reads every mailbox (stats, largest mailboxes). */
export function dashboardAnswer(source: DashboardSource): () => Promise<unknown> {
  const heavy = new Throttled(() => Promise.all([source.stats(), source.dashboard.users()]));
  return () => dashboardData(source, () => heavy.get());
}

async function dashboardData(source: DashboardSource, heavy: () => Promise<[Record<string, number>, UsageRow[] | null]>): Promise<unknown> {
  const [[stats, users], queue, throughput, rejections] = await Promise.all([
    heavy(), source.queueList(), source.dashboard.throughput(), source.dashboard.rejections(),
  ]);
  return {
    time: Date.now(), stats, throughput, queue: queueByDestination(queue), cluster: source.clusterStatus?.() ?? null,
    blocked: source.auth.blocked(), rejections: rejections.slice(-50).reverse(), users,
  };
}
