// The Prometheus metrics of this process (prom-client): one registry per process,
// the metric families every service counts into (`metrics.smtpTransactions.inc(...)`,
// one line at the place the event happens), and collectors that read state at scrape
// time (queue depth, store totals) registered by whoever owns that state. A cluster's
// primary gathers every worker's registry as JSON and sums them (aggregate()), so
// GET /metrics answers for the whole node. Per-process families (heap, event-loop lag)
// carry a `node` label and so are never summed together.
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue, type RegistryContentType } from 'prom-client';

const registry = new Registry();

/** prom-client's defaults that `promtool check metrics` refuses: gauges named like counters. */
const REFUSED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

let processLabel: string | null = null;

/** Starts the per-process families (heap, event-loop lag, CPU, ...) under `node="<name>"`; once per process. */
export function startProcessMetrics(node: string): void {
  if (processLabel !== null) return;
  processLabel = node;
  collectDefaultMetrics({ register: registry, labels: { node }, prefix: '' });
  for (const name of REFUSED_DEFAULTS) registry.removeSingleMetric(name);
}

const seconds = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];

/** The metric families the services count into. Label values are bounded sets (listener kinds, command names, codes). */
export const metrics = {
  smtpConnections: new Counter({ name: 'ternmail_smtp_connections_total', help: 'SMTP and LMTP connections accepted, by listener', labelNames: ['listener'], registers: [registry] }),
  smtpTransactions: new Counter({ name: 'ternmail_smtp_transactions_total', help: 'SMTP and LMTP transactions ended after DATA, by listener and result (accepted, rejected)', labelNames: ['listener', 'result'], registers: [registry] }),
  smtpRejections: new Counter({ name: 'ternmail_smtp_rejections_total', help: 'SMTP and LMTP replies 4xx/5xx, by listener, stage (command; DATA for the answers after the message) and code', labelNames: ['listener', 'stage', 'code'], registers: [registry] }),
  queueDeferrals: new Counter({ name: 'ternmail_queue_deferrals_total', help: 'delivery attempts deferred (to be retried)', registers: [registry] }),
  queueBounces: new Counter({ name: 'ternmail_queue_bounces_total', help: 'recipients failed permanently (a bounce is sent unless the sender is null)', registers: [registry] }),
  relayed: new Counter({ name: 'ternmail_outbound_delivered_total', help: 'recipients delivered to other servers (relayed)', registers: [registry] }),
  localDeliveries: new Counter({ name: 'ternmail_local_deliveries_total', help: 'deliveries into local mailboxes, by result (done, deferred, failed)', labelNames: ['result'], registers: [registry] }),
  openSessions: new Gauge({ name: 'ternmail_sessions_open', help: 'SMTP, LMTP, IMAP and POP3 connections open now', registers: [registry] }),
  sessions: new Counter({ name: 'ternmail_sessions_total', help: 'IMAP and POP3 sessions opened, by protocol', labelNames: ['proto'], registers: [registry] }),
  commandSeconds: new Histogram({ name: 'ternmail_command_duration_seconds', help: 'IMAP and POP3 command latency, by protocol and command', labelNames: ['proto', 'command'], buckets: seconds, registers: [registry] }),
  logins: new Counter({ name: 'ternmail_auth_attempts_total', help: 'logins, by protocol and result (success, failure, locked)', labelNames: ['proto', 'result'], registers: [registry] }),
  handoffs: new Counter({ name: 'ternmail_cluster_handoffs_total', help: 'IMAP and POP3 connections moved to the worker holding the mailbox or relayed to the node holding it, by result (moved, relayed, refused, unanswered)', labelNames: ['result'], registers: [registry] }),
  queueEntries: new Gauge({ name: 'ternmail_queue_entries', help: 'messages in the queue, by queue partition', labelNames: ['partition'], registers: [registry] }),
  queueDepth: new Gauge({ name: 'ternmail_queue_recipients', help: 'recipients waiting in the queue, by destination domain and state', labelNames: ['domain', 'state'], registers: [registry] }),
  storeMessages: new Gauge({ name: 'ternmail_store_messages', help: 'messages in all mailboxes', registers: [registry] }),
  storeMailboxBytes: new Gauge({ name: 'ternmail_store_mailbox_bytes', help: 'bytes of all messages in all mailboxes (each copy counted)', registers: [registry] }),
  storeBlobs: new Gauge({ name: 'ternmail_store_blobs', help: 'message bodies stored (each stored once)', registers: [registry] }),
  storeBlobBytes: new Gauge({ name: 'ternmail_store_blob_bytes', help: 'bytes of the message bodies stored', registers: [registry] }),
  clusterNodes: new Gauge({ name: 'ternmail_cluster_nodes', help: 'worker processes of the cluster, by state', labelNames: ['state'], registers: [registry] }),
  clusterPlacements: new Gauge({ name: 'ternmail_cluster_mailboxes', help: 'mailboxes placed on each worker', labelNames: ['worker'], registers: [registry] }),
};

/** The single-instance ratio, computed from the summed totals (a ratio cannot be summed). */
const SINGLE_INSTANCE = { name: 'ternmail_store_single_instance_ratio', help: 'bytes of all mailbox copies per byte stored: how much single-instance storage saves' };

type Collector = () => Promise<void>;
const collectors = new Set<Collector>();

/** Runs `collect` before each scrape (it sets gauges); returns a function that stops it. */
export function collectOnScrape(collect: Collector): () => void {
  collectors.add(collect);
  return () => collectors.delete(collect);
}

async function collect(): Promise<void> {
  await Promise.all([...collectors].map((c) => c().catch(() => undefined)));
}

/** This process's metrics as plain data, for the primary to gather over the node transport. */
export async function metricsAsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
  await collect();
  return registry.getMetricsAsJSON();
}

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The text exposition of this process and of `others` (each worker's metricsAsJson()), summed. */
export async function renderMetrics(others: MetricsJson[] = []): Promise<{ contentType: string; text: string }> {
  const all = AggregatorRegistry.aggregate([await metricsAsJson(), ...others]);
  const mailboxBytes = await valueOf(all, metrics.storeMailboxBytes);
  const blobBytes = await valueOf(all, metrics.storeBlobBytes);
  const ratio = new Gauge({ ...SINGLE_INSTANCE, registers: [all] });
  ratio.set(blobBytes > 0 ? mailboxBytes / blobBytes : 1);
  return { contentType: all.contentType, text: await all.metrics() };
}

async function valueOf(from: Registry<RegistryContentType>, family: Gauge): Promise<number> {
  const name = (family as unknown as { name: string }).name;
  const metric = from.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values.reduce((sum, v) => sum + v.value, 0);
}

/** Counts a login by the verdict of the password check (checkLogin's `kind`). */
export function countLogin(proto: 'smtp' | 'imap' | 'pop3', verdict: 'ok' | 'bad-credentials' | 'refused' | 'unavailable'): void {
  metrics.logins.inc({ proto, result: loginResults[verdict] });
}

/** `unavailable`: the password was right but the node holding the mailbox is down. */
const loginResults = { ok: 'success', 'bad-credentials': 'failure', refused: 'locked', unavailable: 'unavailable' } as const;

/** Cumulative message counts for the dashboard's throughput plots (it takes the differences). */
export interface Throughput {
  received: number;
  delivered: number;
  relayed: number;
  bounced: number;
}

export async function throughput(others: MetricsJson[] = []): Promise<Throughput> {
  const all = AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), ...others]);
  const sum = async (family: unknown, labels: Record<string, string> = {}): Promise<number> => {
    const metric = all.getSingleMetric((family as { name: string }).name);
    if (!metric) return 0;
    const data = await metric.get();
    return data.values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((n, v) => n + v.value, 0);
  };
  return {
    received: await sum(metrics.smtpTransactions, { result: 'accepted' }),
    delivered: await sum(metrics.localDeliveries, { result: 'done' }),
    relayed: await sum(metrics.relayed),
    bounced: await sum(metrics.queueBounces),
  };
}
