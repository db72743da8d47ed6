// The primary of a cluster on one machine: holds the authoritative directory and its
// change feed, runs the router that places mailboxes on store nodes, serves the admin
// API (fanning out to workers), and supervises the worker processes: a worker that
// dies is restarted within seconds; one that keeps dying is backed off and reported.
import cluster, { type Worker } from 'node:cluster';
import { applyAcceptPolicy } from './cluster/accept-policy.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ServerConfig } from './settings.js';
import type { Logger } from './core/logger.js';
import { Database } from './store/database.js';
import { DirectoryStore } from './directory/directory-store.js';
import { Directory } from './directory/directory.js';
import { start, stop } from './core/supervision.js';
import { defineActor, LONG_LIVED, spawnActor } from './core/actor.js';
import { fanOutAdmin } from './cluster/fan-out-admin.js';
import { escalate } from './core/process-policy.js';
import { decideRestart, type RestartPolicy } from './core/restart-policy.js';
import { startAdminApi, type AdminBackend } from './admin/admin-api.js';
import { writeAdminFile } from './server.js';
import { prepareDataFolder, removePidFile, storeOpenFailure, writePidFile } from './store/data-folder.js';
import { UnixSocketTransport } from './transport/transport.js';
import { directoryDataPath, nodeSocketPath } from './transport/paths.js';
import type { NodeRequest, NodeStats } from './cluster/protocol.js';
import type { DirectoryChange } from './directory/records.js';
import { initialRouterState, placeMailbox, routerBehaviour } from './cluster/router.js';
import { Rebalancer } from './cluster/rebalance.js';
import { HandoffRelay } from './transport/handoff.js';
import { AuthGuard, authLimitsOf } from './net/auth-guard.js';
import { answerAuthRequest } from './cluster/auth-sharing.js';
import { collectOnScrape, renderMetrics, throughput, type MetricsJson } from './core/metrics.js';
import type { RecentRefusal } from './smtp/refusal-log.js';
import { RemoteMailboxAdmin, type MailboxAdminAnswer } from './admin/mailbox-admin.js';
import { BackupJob, type BackupProgress } from './admin/backup.js';
import { ClusterBackup } from './admin/cluster-backup.js';
import { clusterMetricsCollector } from './admin/cluster-metrics.js';
import { mergeLargest } from './admin/mailbox-usage.js';
import type { UsageRow } from './admin/dashboard-data.js';

/**
 * A worker that dies is restarted after 200 ms; past 5 restarts in a minute it is in a
 * crash loop, and each further restart waits twice as long (2 s, 4 s, ... at most a
 * minute), the worker shown as `backoff` meanwhile. The primary never gives up on it.
 */
export const WORKER_RESTART: RestartPolicy = { intensity: 5, period: 60, delayMs: 200, backoff: { baseMs: 1000, maxMs: 60_000 } };

export interface WorkerStatus {
  node: number;
  pid: number | null;
  roles: string[];
  state: 'starting' | 'running' | 'backoff' | 'stopped';
  startedAt: number;
  restarts: number;
  stats: NodeStats | null;
  /** Delivered counts seen in heartbeats over the last minute: [time, delivered]. */
  history: Array<[number, number]>;
}

export interface PrimaryOptions {
  workers: number;
  roles: (node: number) => string[];
  /**
   * `--user` started as root: the workers run as this account from their start (this
   * process, still root, binds their listeners, privileged ports included); `handOver`
   * gives it the data folder before the first fork, and `drop` makes this process the
   * account once every worker listens.
   */
  runAs?: RunAs;
}

/** `--user` started as root, for a process that forks its workers (this primary, or a NATS node's). */
export interface RunAs { uid: number; gid: number; privilegedPorts: boolean; handOver(): void; drop(): void }

export async function runPrimary(config: ServerConfig, log: Logger, options: PrimaryOptions): Promise<{ stop(): Promise<void> }> {
  prepareDataFolder(config.server.data, log);
  mkdirSync(path.join(config.server.data, 'run'), { recursive: true });
  const db = new Database(directoryDataPath(config.server.data));
  await db.open().catch((err: unknown) => {
    throw storeOpenFailure(err, config.server.data, directoryDataPath(config.server.data));
  });
  writePidFile(config.server.data);
  const system = start();
  const directory = new Directory(new DirectoryStore(db), log.child({ actor: 'directory' }), {
    passwordCost: config.directory.passwordCost, defaultQuota: config.mailbox.defaultQuota,
  });
  await directory.start(system);

  const workers = new Map<number, WorkerStatus>();
  const processes = new Map<number, Worker>();
  const restartTimes = new Map<number, number[]>();
  const routerActor = defineActor({
    what: 'router', handle: routerBehaviour(directory, () => [...workers.values()].filter((w) => w.roles.includes('store'))),
    initialState: initialRouterState, restart: { strategy: 'reset', ...LONG_LIVED }, onGiveUp: escalate(log, 'router'),
  });
  const router = spawnActor(system, routerActor, 'router', log.child({ actor: 'router' }));
  let stopping = false;
  const authGuard = new AuthGuard(authLimitsOf(config.net), log.child({ component: 'auth-guard' }));

  const transport = new UnixSocketTransport(0, (n) => nodeSocketPath(config.server.data, n), async (body) => {
    const request = body as NodeRequest;
    switch (request.kind) {
      case 'dir-snapshot': return directory.snapshot();
      case 'dir-since': return directory.changesSince(request.seq);
      case 'dir-request': return directory.request((replyTo) => ({ ...request.message, replyTo }) as never);
      case 'place': return placeMailbox(router, request.mailboxId);
      case 'auth-reserve':
      case 'auth-settle': return answerAuthRequest(authGuard, request);
      case 'move-placement': {
        const reply = await directory.request((replyTo) => ({ type: 'set-placement', mailboxId: request.mailboxId, node: request.node, force: true, replyTo }));
        if (!reply.ok) throw new Error(reply.error);
        return null;
      }
      case 'heartbeat': {
        const status = workers.get(request.stats.node);
        if (status) {
          status.stats = request.stats;
          status.state = 'running';
          status.history.push([Date.now(), request.stats.delivered]);
          while (status.history.length > 0 && status.history[0][0] < Date.now() - 60_000) status.history.shift();
        }
        return { appliedSeq: directory.cache.appliedSeq, donor: donorFor(request.stats) };
      }
      default:
        throw new Error(`the primary does not serve ${request.kind}`);
    }
  });
  await transport.listen();

  /** For an idle worker: the running worker with the longest delivery backlog, if long enough to share. */
  function donorFor(stats: NodeStats): number | null {
    if (stats.ready > 0 || stats.idleWorkers === 0) return null;
    let best: WorkerStatus | null = null;
    for (const w of workers.values()) {
      if (w.node === stats.node || w.state !== 'running' || !w.stats) continue;
      if (w.stats.ready >= config.cluster.lendThreshold && (!best || w.stats.ready > best.stats!.ready)) best = w;
    }
    return best?.node ?? null;
  }

  // The change feed: every change goes to every worker, batched per tick.
  let pendingChanges: DirectoryChange[] = [];
  directory.cache.onChange((change) => {
    if (pendingChanges.length === 0) setImmediate(broadcastChanges);
    pendingChanges.push(change);
  });
  function broadcastChanges(): void {
    const changes = pendingChanges;
    pendingChanges = [];
    for (const node of workers.keys()) {
      if (workers.get(node)?.state !== 'running') continue;
      transport.request(node, { kind: 'dir-changes', changes } satisfies NodeRequest, 10_000)
        .catch((err) => log.warn({ err, node }, 'change feed not delivered; the worker catches up at its next heartbeat'));
    }
  }

  const handoffs = new HandoffRelay(
    (node) => (workers.get(node)?.state === 'running' ? processes.get(node) : undefined),
    (node) => processes.get(node),
    log.child({ component: 'handoff' }),
  );

  const runAs = options.runAs;
  runAs?.handOver();
  applyAcceptPolicy(config.cluster.workersAccept);
  cluster.setupPrimary({ exec: process.argv[1], args: process.argv.slice(2), silent: false, ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
  let privilegesDropped = false;
  const dropOnceAllListen = () => {
    if (!runAs || privilegesDropped || ![...workers.values()].every((w) => w.state === 'running')) return;
    privilegesDropped = true;
    runAs.drop();
  };
  /**
   * Node's cluster closes a listener when no worker holds it any more; bound again by
   * this process, no longer root, a port below 1024 is refused. Then the whole service
   * exits (75) for its supervisor to start it again as root.
   */
  const cannotRebind = (node: number): boolean => runAs?.privilegedPorts === true && privilegesDropped
    && workers.get(node)!.roles.includes('access')
    && ![...workers.values()].some((w) => w.node !== node && w.state === 'running' && w.roles.includes('access'));
  const fork = (node: number) => {
    const status = workers.get(node)!;
    status.state = 'starting';
    status.startedAt = Date.now();
    const worker = cluster.fork({ TERNMAIL_NODE_ID: String(node), TERNMAIL_NODE_ROLES: status.roles.join(',') });
    status.pid = worker.process.pid ?? null;
    processes.set(node, worker);
    worker.on('message', (msg: { type?: string }, handle: unknown) => {
      if (handoffs.handle(msg, handle)) return;
      if (msg?.type === 'ternmail-worker-ready') {
        status.state = 'running';
        log.info({ node, workerPid: status.pid }, 'worker running');
        announceNodeUp(node);
        dropOnceAllListen();
      }
    });
    worker.on('exit', (code, signal) => {
      processes.delete(node);
      handoffs.nodeExited(node);
      if (stopping) {
        status.state = 'stopped';
        return;
      }
      if (cannotRebind(node)) {
        status.state = 'stopped';
        log.fatal({ node, code, signal }, 'no worker holds the privileged listeners any more and this process cannot bind them again as --user; exiting for the service manager to restart');
        void self.stop().finally(() => process.exit(75));
        return;
      }
      scheduleRestart(node, code, signal);
    });
  };

  /** Tells the other running workers that `node` is up: their deliveries that waited for it go now. */
  const announceNodeUp = (node: number) => {
    for (const [other, status] of workers) {
      if (other === node || status.state !== 'running') continue;
      transport.request(other, { kind: 'node-up', node } satisfies NodeRequest, 10_000)
        .catch((err) => log.warn({ err, node: other, up: node }, 'node-up not delivered; its deliveries wait for their next retry'));
    }
  };

  const scheduleRestart = (node: number, code: number | null, signal: string | null) => {
    const status = workers.get(node)!;
    const { decision, recent } = decideRestart(restartTimes.get(node) ?? [], Date.now(), WORKER_RESTART);
    restartTimes.set(node, recent);
    status.restarts += 1;
    status.pid = null;
    if (decision.action === 'give-up') {
      status.state = 'stopped';
      log.error({ node, code, signal, restarts: recent.length }, 'worker exited too often; not restarting it');
      return;
    }
    const crashLoop = decision.action === 'backoff';
    const delay = decision.delayMs;
    status.state = crashLoop ? 'backoff' : 'starting';
    (crashLoop ? log.error.bind(log) : log.warn.bind(log))({ node, code, signal, restartIn: delay, crashLoop }, 'worker exited; restarting');
    setTimeout(() => {
      if (!stopping) fork(node);
    }, delay).unref();
  };

  for (let node = 1; node <= options.workers; node++) {
    workers.set(node, { node, pid: null, roles: options.roles(node), state: 'starting', startedAt: Date.now(), restarts: 0, stats: null, history: [] });
    fork(node);
  }

  const ask = <T>(node: number, request: NodeRequest) => transport.request<T>(node, request, 30_000);
  const rebalancer = new Rebalancer(directory, transport, () => [...workers.values()].filter((w) => w.roles.includes('store') && w.state === 'running').map((w) => w.node));
  const running = () => [...workers.values()].filter((w) => w.state === 'running').map((w) => w.node);
  const fanOut = fanOutAdmin(running, ask);
  const backend: AdminBackend = {
    directory, passwordCost: config.directory.passwordCost, importPasswordCost: config.directory.importPasswordCost,
    auth: authGuard,
    stats: () => fanOut.stats({ users: directory.cache.users.size, domains: directory.cache.domains.size, workers: options.workers, workersRunning: running().length }),
    queueList: fanOut.queueList, queueFlush: fanOut.queueFlush, queueControl: fanOut.queueControl,
    async injectFault(address) {
      const user = directory.cache.user(address);
      if (!user) return { ok: false, error: `unknown user: ${address}` };
      const node = await placeMailbox(router, user.mailboxId);
      return ask<{ ok: boolean; error?: string }>(node, { kind: 'inject-fault', mailboxId: user.mailboxId });
    },
    async plugins() {
      const perNode = await Promise.all(running().map(async (node) => {
        const rows = await ask<Array<Record<string, unknown>>>(node, { kind: 'plugins' }).catch(() => []);
        return rows.map((row) => ({ node, ...row }));
      }));
      return perNode.flat();
    },
    clusterStatus: () => clusterStatus([...workers.values()], directory.cache.mailboxesPerNode()),
    metrics: async () => renderMetrics(await Promise.all(running().map((n) => ask<MetricsJson>(n, { kind: 'metrics' }).catch(() => [])))),
    metricsOpen: config.admin.metricsOpen, maxMessageSize: config.store.maxMessageSize,
    backup: new ClusterBackup(new BackupJob(db, log.child({ component: 'backup' })), {
      nodes: () => [...workers.keys()].sort((a, b) => a - b),
      hold: (node, maxMs) => ask<null>(node, { kind: 'backup-hold', maxMs }).then(() => undefined),
      release: (node) => ask<null>(node, { kind: 'backup-release' }).then(() => undefined),
      start: (node, dir) => ask<BackupProgress>(node, { kind: 'backup-start', dir }),
      status: (node) => ask<BackupProgress>(node, { kind: 'backup-status' }),
    }, log.child({ component: 'backup' })),
    mailboxAdmin: new RemoteMailboxAdmin(async (op, args) => {
      const [worker] = running();
      if (worker === undefined) throw new Error('no worker is running');
      // A search reads every mailbox: longer than the usual 30 s is allowed.
      return transport.request<MailboxAdminAnswer>(worker, { kind: 'admin-mailbox', op, args } satisfies NodeRequest, 600_000);
    }),
    dashboard: {
      throughput: async () => throughput(await Promise.all(running().map((n) => ask<MetricsJson>(n, { kind: 'metrics' }).catch(() => [])))),
      rejections: async () => (await Promise.all(running().map((n) => ask<RecentRefusal[]>(n, { kind: 'recent-refusals' }).catch(() => [])))).flat().sort((a, b) => a.time - b.time),
      users: async () => mergeLargest(await Promise.all(running().map((n) => ask<UsageRow[]>(n, { kind: 'largest-mailboxes' }).catch(() => [])))),
    },
    rebalance: {
      start: () => rebalancer.start(),
      status: () => rebalancer.status(),
      stop: () => rebalancer.stop(),
    },
  };
  collectOnScrape(clusterMetricsCollector(() => [...workers.values()], () => directory.cache.mailboxesPerNode()));
  const token = randomBytes(24).toString('hex');
  const admin = await startAdminApi(backend, token, config.admin.bind, config.admin.port, log.child({ listener: 'admin' }));
  const adminUrl = `http://${config.admin.bind.includes(':') ? `[${config.admin.bind}]` : config.admin.bind}:${admin.port}`;
  writeAdminFile(config.server.data, adminUrl, token);
  log.info({ workers: options.workers, admin: adminUrl }, 'ternmail cluster started');

  const self = {
    async stop() {
      stopping = true;
      await admin.close();
      await Promise.all([...processes.values()].map((worker) => new Promise<void>((resolve) => {
        const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.kill('SIGTERM');
      })));
      await transport.close();
      authGuard.close();
      await directory.drain();
      stop(system);
      await db.close();
      removePidFile(config.server.data);
      log.info('cluster stopped');
    },
  };
  return self;
}

export interface ClusterStatusRow {
  node: number;
  pid: number | null;
  roles: string[];
  state: WorkerStatus['state'];
  uptime: number;
  restarts: number;
  mailboxes: number;
  storedBytes: number;
  queueDepth: number;
  sessions: number;
  messagesPerSecond: number;
  /** Deliveries done for other workers (work sharing). */
  borrowed: number;
}

function clusterStatus(workers: WorkerStatus[], mailboxesPerNode: ReadonlyMap<number, number>): { workers: ClusterStatusRow[]; totals: Omit<ClusterStatusRow, 'node' | 'pid' | 'roles' | 'state' | 'uptime' | 'borrowed'> } {
  const rows = workers.map((w): ClusterStatusRow => {
    const first = w.history[0];
    const last = w.history[w.history.length - 1];
    const rate = first && last && last[0] > first[0] ? (last[1] - first[1]) / ((last[0] - first[0]) / 1000) : 0;
    return {
      node: w.node, pid: w.pid, roles: w.roles, state: w.state, uptime: w.state === 'running' ? Math.round((Date.now() - w.startedAt) / 1000) : 0,
      restarts: w.restarts, mailboxes: mailboxesPerNode.get(w.node) ?? 0, storedBytes: w.stats?.blobBytes ?? 0, queueDepth: w.stats?.queued ?? 0,
      sessions: w.stats?.sessions ?? 0, messagesPerSecond: Math.round(rate * 10) / 10, borrowed: w.stats?.borrowed ?? 0,
    };
  });
  const sum = (key: 'restarts' | 'mailboxes' | 'storedBytes' | 'queueDepth' | 'sessions' | 'messagesPerSecond') => rows.reduce((n, r) => n + r[key], 0);
  return {
    workers: rows,
    totals: { restarts: sum('restarts'), mailboxes: sum('mailboxes'), storedBytes: sum('storedBytes'), queueDepth: sum('queueDepth'), sessions: sum('sessions'), messagesPerSecond: sum('messagesPerSecond') },
  };
}
