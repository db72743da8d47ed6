// Assembles one ternmail node: opens the store, starts the actor tree (directory,
// queue with delivery workers, mailbox registry, listeners) and the admin API.
// `startServer` is what `ternmail start` and the tests call.
import type net from 'node:net';
import { writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Ref } from 'nact';
import { rolesOf, type ServerConfig } from './settings.js';
import type { Logger } from './core/logger.js';
import { Database } from './store/database.js';
import { BlobStore } from './store/blob-store.js';
import { MailboxStore } from './store/mailbox-store.js';
import { QueueJournal, QueueStore } from './store/queue-store.js';
import { DirectoryStore } from './directory/directory-store.js';
import { Directory } from './directory/directory.js';
import { MailboxRegistry } from './mailbox/registry.js';
import { ask, dispatch, start, stop, type Failure } from './core/supervision.js';
import { defineActor, LONG_LIVED, spawnActor, spawnGroup } from './core/actor.js';
import { escalate } from './core/process-policy.js';
import { initialQueueState, queueBehaviour, type ControlReply, type DeliveryTask, type QueueListing, type QueueMessage } from './queue/queue.js';
import { deliveryWorkerBehaviour } from './queue/delivery-worker.js';
import { startSmtpListener, type RunningListener } from './smtp/listener.js';
import { ConnectionLimiter, type ConnectionCaps } from './net/connection-limiter.js';
import { AuthGuard, authLimitsOf, type AuthGate } from './net/auth-guard.js';
import { startAdminApi, type AdminBackend } from './admin/admin-api.js';
import { RemoteMailboxes } from './cluster/remote-mailboxes.js';
import { RepeatedDeliveries } from './mailbox/repeated-deliveries.js';
import type { NodeTransport } from './transport/transport.js';
import type { NodeRequest } from './cluster/protocol.js';
import { handleNodeRequest, type NodeServices } from './cluster/node-services.js';
import { Borrower } from './cluster/work-sharing.js';
import { mailForwarder } from './cluster/mail-forwarding.js';
import { queueBody } from './queue/queue-body.js';
import { redirectMessage } from './queue/redirect.js';
import type { DoneReply, MailboxRequest } from './mailbox/messages.js';
import { startPop3Listener } from './pop3/listener.js';
import { startImapListener } from './imap/listener.js';
import { startDomainQueues } from './outbound/outbound.js';
import { sendNotification } from './outbound/notifications.js';
import type { ConnectionHandoff, SessionHandoff } from './transport/handoff.js';
import { TlsMaterial } from './net/tls-material.js';
import { prepareDataFolder, removePidFile, storeOpenFailure, writePidFile } from './store/data-folder.js';
import { listenFailure } from './core/startup-error.js';
import { startPlugins, type RunningPlugins } from './plugins/plugins.js';
import { startLmtpListener } from './lmtp/listener.js';
import { collectOnScrape, renderMetrics, throughput } from './core/metrics.js';
import { recentRefusals } from './smtp/refusal-log.js';
import { largestMailboxes } from './admin/mailbox-usage.js';
import { nodeMetricsCollector } from './admin/node-metrics.js';
import { MailboxAdmin } from './admin/mailbox-admin.js';
import { BackupJob } from './admin/backup.js';

export interface RunningServer {
  config: ServerConfig;
  ports: { smtp: number; submission: number; pop3: number; imap: number; admin: number; smtps?: number; pop3s?: number; imaps?: number; lmtp?: number };
  /** Empty for a worker of a cluster (the primary serves the admin API). */
  adminUrl: string;
  token: string;
  directory: Directory;
  services: NodeServices;
  /** In a cluster: borrows ready deliveries from a busier node. */
  borrower: Borrower | null;
  /** The admin API's view of this process alone (served by it unless it is a worker of a cluster). */
  localAdmin: AdminBackend;
  /** Answers a request from another node process. */
  handleNodeRequest(request: NodeRequest): Promise<unknown>;
  /** Serves a plain IMAP or POP3 connection accepted on another port (a node's peer port); false without such a listener. */
  acceptPeer(protocol: 'imap' | 'pop3', socket: net.Socket): boolean;
  /** Re-reads the TLS key and certificate (SIGHUP); keeps the old ones if the new are unusable. */
  reloadTls(): void;
  stop(): Promise<void>;
}

/** This node as one worker of a cluster: its id, the transport and the directory replica. */
export interface ClusterMembership {
  nodeId: number;
  transport: NodeTransport;
  directory: Directory;
  remote?: RemoteMailboxes;
  /**
   * Moves logged-in IMAP and POP3 connections to the worker holding the mailbox (one
   * machine), or relays them to its node (a cluster of machines: no `accept`).
   */
  handoff?: ConnectionHandoff & Partial<Pick<SessionHandoff, 'accept'>>;
  /** The primary's failed-login limits, shared by every worker. */
  auth?: AuthGate;
  /** Asks the router for a mailbox's node. */
  place(mailboxId: string): Promise<number>;
  /** Nodes on other machines: is this one's lease live? Mail for a node that is not is queued here. */
  isLive?(node: number): boolean;
  /** Nodes on other machines: place a recipient's mailbox when its mail arrives, not at its delivery. */
  placeAtAcceptance?: boolean;
}

export interface StartOptions {
  /** Test-only: allow injecting faults into actors through the admin API. */
  testFaults?: boolean;
  cluster?: ClusterMembership;
  /** Roles of this node (default: every role). */
  roles?: string[];
}

export const ADMIN_FILE = 'admin.json';
/** Across machines, a login checks that the mailbox's node answers within this. */
const REACHABLE_TIMEOUT_MS = 1500;

export async function startServer(config: ServerConfig, log: Logger, options: StartOptions = {}): Promise<RunningServer> {
  prepareDataFolder(config.server.data, log);
  const tlsMaterial = config.net.tls ? TlsMaterial.load(config.net.tls) : null;
  const storePath = path.join(config.server.data, 'store');
  const db = new Database(storePath, { writeBufferSize: config.store.writeBuffer });
  try {
    await db.open();
  } catch (err) {
    throw storeOpenFailure(err, config.server.data, storePath);
  }
  writePidFile(config.server.data);
  const blobs = new BlobStore(db, { maxParts: config.store.mimeMaxParts, maxDepth: config.store.mimeMaxDepth, maxHeaders: config.store.mimeMaxHeaders });
  const mailboxStore = new MailboxStore(db);
  const queueStore = new QueueStore(db, config.queue.partitions);
  const system = start();
  let plugins: RunningPlugins;
  try {
    plugins = await startPlugins(config.plugins, system, {
      db, hostname: config.server.hostname, dataDir: config.server.data, isLocalDomain: (domain) => directory.cache.isLocalDomain(domain),
    }, log);
  } catch (err) {
    stop(system);
    await db.close();
    removePidFile(config.server.data);
    throw err;
  }
  const hooks = plugins.hooks;

  const directory = options.cluster?.directory ?? new Directory(new DirectoryStore(db), log.child({ actor: 'directory' }), {
    passwordCost: config.directory.passwordCost, defaultQuota: config.mailbox.defaultQuota,
  });
  if (!options.cluster) await directory.start(system);

  const storeParent = spawnGroup(system, 'store');
  const mailboxes = new MailboxRegistry(storeParent, {
    db, blobs, mailboxes: mailboxStore, log: log.child({ actor: 'mailbox' }), testFaults: options.testFaults ?? false, hooks,
    forward: (node, mailboxId, msg) => forwardToNode(node, mailboxId, msg),
    // A node of a cluster (workers or machines): its copies of forwarded parts skip the marker read when no other copy came.
    ...(options.cluster ? { repeats: new RepeatedDeliveries() } : {}),
  }, config.mailbox.idleMs);
  /** A request for a mailbox that moved away: sent to its new node, the answer back to the asker. */
  const forwardToNode = (node: number, mailboxId: string, msg: MailboxRequest) => {
    const remote = options.cluster?.remote;
    if (!remote) throw new Error('only a cluster node forwards mailbox requests');
    const replyTo = (msg as { replyTo?: Ref<unknown> }).replyTo;
    remote.ask<unknown>(node, mailboxId, () => msg).then(
      (reply) => replyTo && dispatch(replyTo, reply),
      (err: Error) => replyTo && dispatch(replyTo, { ok: false, error: `mailbox moved; node ${node} unreachable: ${err.message}`, temporary: true }),
    );
  };
  if (options.cluster) {
    const membership = options.cluster;
    membership.remote = new RemoteMailboxes(membership.nodeId, membership.transport, blobs, spawnGroup(system, 'remote-listeners'), log.child({ component: 'remote-mailboxes' }));
    mailboxes.usePlacement({
      self: membership.nodeId,
      remote: membership.remote,
      ownerKnown: (mailboxId) => directory.cache.nodeOf(mailboxId),
      owner: async (mailboxId) => directory.cache.nodeOf(mailboxId) ?? membership.place(mailboxId),
      isLive: membership.isLive,
      reachable: membership.isLive
        ? (node) => membership.transport.request(node, { kind: 'ping' } satisfies NodeRequest, REACHABLE_TIMEOUT_MS).then(() => true, () => false)
        : undefined,
    });
  }
  const deliveredCount = { value: 0 };

  const queueLog = log.child({ actor: 'queue' });
  let queueActor: Ref<QueueMessage>;
  const domains = startDomainQueues(system, config, {
    blobs, directory: directory.cache, log: log.child({ actor: 'outbound' }), report: (results) => dispatch(queueActor, results), hooks,
  });
  const spoolDeps = { db, blobs, queue: queueStore, directory: directory.cache };
  const journal = new QueueJournal(db, (err) => queueLog.error({ err }, 'queue state write failed'));
  // Resume: the queue's state is the spool in memory; a crash in one message must not drop it.
  // Past the limit the process exits and restarts from the spool on disk.
  const queue = defineActor({ what: 'queue', initialState: initialQueueState, restart: { strategy: 'resume', ...LONG_LIVED }, onGiveUp: escalate(queueLog, 'queue'), handle: queueBehaviour({
    db, journal, blobs, queue: queueStore, log: queueLog, retrySchedule: config.queue.retrySchedule, maxQueueLifetime: config.queue.maxLifetime,
    delayWarning: config.queue.delayWarning, domainQueue: domains,
    notify: async (entry, kind, recipients) => {
      const bounce = await sendNotification(spoolDeps, config.server.hostname, entry, kind, recipients);
      if (bounce) dispatch(queueActor, { type: 'queued', entry: bounce });
      if (bounce && hooks.on.bounce) hooks.observe('bounce', { queueId: entry.id, to: entry.from, kind, recipients: recipients.map((r) => ({ address: r.address, diagnostic: r.error })) });
    },
  }) });
  queueActor = spawnActor(system, queue, 'queue', queueLog);

  const workerDeps = {
    directory, mailboxes, db, queue: () => queueActor, log: log.child({ actor: 'delivery' }), delivered: deliveredCount, hooks,
    body: (blob: string) => blobs.read(blob),
    redirect: (task: DeliveryTask, to: string[]) => redirectMessage({ blobs, queue: queueStore, queueActor: () => queueActor, directory: directory.cache }, task, to),
  };
  const borrower = options.cluster?.remote
    ? new Borrower({ transport: options.cluster.transport, mailboxes, remote: options.cluster.remote, blobs, worker: workerDeps, log: log.child({ component: 'work-sharing' }) })
    : null;
  // Not children of the queue: nact copies an actor's children map for every message it handles.
  const deliveryWorkers = spawnGroup(system, 'delivery');
  for (let i = 0; i < config.queue.localDeliveryConcurrency; i++) {
    const deliveryWorker = defineActor({
      what: 'delivery worker', handle: deliveryWorkerBehaviour(workerDeps), restart: { strategy: 'resume', ...LONG_LIVED },
      onGiveUp: escalate(workerDeps.log, 'delivery worker'),
    });
    const worker = spawnActor(deliveryWorkers, deliveryWorker, `worker-${i}`, workerDeps.log);
    dispatch(queueActor, { type: 'worker-ready', worker });
  }
  for await (const entry of queueStore.entries()) dispatch(queueActor, { type: 'queued', entry: { ...entry, recovered: true } });

  const limiter = new ConnectionLimiter(connectionCapsOf(config, options.cluster !== undefined));
  const authGuard = new AuthGuard(authLimitsOf(config.net), log.child({ component: 'auth-guard' }));
  const auth = options.cluster?.auth ?? authGuard;
  const listeners = spawnGroup(system, 'listeners');
  const smtpDeps = {
    db, blobs, queue: queueStore, queueActor: () => queueActor, directory, mailboxes, log: log.child({ listener: 'smtp' }),
    hooks, hostname: config.server.hostname, maxMessageSize: config.store.maxMessageSize, maxRecipients: config.smtp.maxRecipients, maxReceivedHeaders: config.smtp.maxReceivedHeaders,
    forwarder: options.cluster
      ? mailForwarder(options.cluster.nodeId, options.cluster.transport, liveOwnerOf(directory, options.cluster), options.cluster.placeAtAcceptance
        ? (address) => placeUser(directory, options.cluster!, address) : undefined, config.cluster.forwardTimeout)
      : undefined,
  };
  const handoff = options.cluster?.handoff;
  const popDeps = { directory, mailboxes, blobs, limiter, auth, handoff, hooks, log: log.child({ listener: 'pop3' }) };
  const imapDeps = { directory, mailboxes, blobs, limiter, auth, handoff, hooks, log: log.child({ listener: 'imap' }) };
  const listenerSpecs: Array<{ name: keyof RunningServer['ports']; role: string; port: number; start: (port: number) => Promise<RunningListener> }> = [
    { name: 'smtp', role: 'mta', port: config.smtp.port, start: (port) => startSmtpListener({ kind: 'mx', port }, config, listeners, smtpDeps, directory, limiter, log, auth, tlsMaterial) },
    { name: 'submission', role: 'mta', port: config.smtp.submissionPort, start: (port) => startSmtpListener({ kind: 'submission', port }, config, listeners, smtpDeps, directory, limiter, log, auth, tlsMaterial) },
    { name: 'smtps', role: 'mta', port: config.smtp.tlsPort, start: (port) => startSmtpListener({ kind: 'smtps', port }, config, listeners, smtpDeps, directory, limiter, log, auth, tlsMaterial) },
    { name: 'pop3', role: 'access', port: config.pop3.port, start: (port) => startPop3Listener({ port, implicitTls: false }, config, listeners, popDeps, tlsMaterial) },
    { name: 'pop3s', role: 'access', port: config.pop3.tlsPort, start: (port) => startPop3Listener({ port, implicitTls: true }, config, listeners, popDeps, tlsMaterial) },
    { name: 'imap', role: 'access', port: config.imap.port, start: (port) => startImapListener({ port, implicitTls: false }, config, listeners, imapDeps, tlsMaterial) },
    { name: 'imaps', role: 'access', port: config.imap.tlsPort, start: (port) => startImapListener({ port, implicitTls: true }, config, listeners, imapDeps, tlsMaterial) },
    { name: 'lmtp', role: 'mta', port: config.lmtp.port, start: (port) => startLmtpListener({ ...config, lmtp: { ...config.lmtp, port } }, listeners, { ...smtpDeps, log: log.child({ listener: 'lmtp' }) }, limiter, log) },
  ];
  // Listeners that are off unless given a port (the others take any free port at 0, as tests do).
  const offAtZero = new Set(['smtps', 'pop3s', 'imaps', 'lmtp']);
  const running: RunningListener[] = [];
  /** A start that fails half-way releases what it took: ports, the store lock, the pid file. */
  const abandon = async () => {
    await Promise.all(running.map((l) => l.close()));
    mailboxes.close();
    stop(system);
    await journal.drain();
    await db.close();
    removePidFile(config.server.data);
  };
  const ports: RunningServer['ports'] = { smtp: 0, submission: 0, pop3: 0, imap: 0, admin: 0 };
  const plainAccept = new Map<'imap' | 'pop3', (socket: net.Socket) => void>();
  for (const spec of listenerSpecs) {
    if (!(options.roles ?? ['mta', 'store', 'access']).includes(spec.role)) continue;
    if (offAtZero.has(spec.name) && !spec.port) continue;
    const listener = await spec.start(spec.port).catch(async (err: unknown) => {
      await abandon();
      throw listenFailure(err, spec.port, `${spec.name}Port`);
    });
    running.push(listener);
    ports[spec.name] = listener.port;
    // Handed-off connections are plain TCP: only the plain listeners adopt them.
    if (handoff && listener.adopt && (spec.name === 'imap' || spec.name === 'pop3')) handoff.accept?.(spec.name, listener.adopt);
    if (listener.accept && (spec.name === 'imap' || spec.name === 'pop3')) plainAccept.set(spec.name, listener.accept);
  }

  const services: NodeServices = {
    async stats(options = { mailboxTotals: true }) {
      let messages = 0;
      let mailboxBytes = 0;
      let mailboxCount = 0;
      // Summing every mailbox reads every account record: for the admin API, not for heartbeats.
      for await (const account of options.mailboxTotals ? mailboxStore.accounts() : []) {
        messages += account.messages;
        mailboxBytes += account.bytes;
        mailboxCount += 1;
      }
      const queued = await ask<QueueMessage, { ok: true; recipients: number; entries: number; ready: number; idleWorkers: number } | Failure>(queueActor, (replyTo) => ({ type: 'count', replyTo }));
      const blobStats = await blobs.stats();
      return {
        messages, mailboxBytes, mailboxes: mailboxCount, queued: queued.ok ? queued.recipients : -1, queueEntries: queued.ok ? queued.entries : -1,
        ...blobStats, activeMailboxes: mailboxes.active, sessions: running.reduce((n, l) => n + (l.sessions?.() ?? 0), 0),
        delivered: deliveredCount.value, syncedBatches: db.commitStats.batches, syncedCommits: db.commitStats.commits,
        ready: queued.ok ? queued.ready : 0, idleWorkers: queued.ok ? queued.idleWorkers : 0, borrowed: borrower?.borrowed ?? 0,
      };
    },
    async lend(max, leaseMs) {
      // A delivery into a mailbox of this node is best done here: lent, its body would only come back.
      const self = options.cluster?.nodeId;
      const lendable = (address: string) => directory.cache.nodeOfUser(address) !== self;
      const reply = await ask<QueueMessage, { ok: true; tasks: DeliveryTask[] } | Failure>(queueActor, (replyTo) => ({ type: 'lend', max, leaseMs, lendable, replyTo }));
      return reply.ok ? reply.tasks : [];
    },
    lentResults: (results) => dispatch(queueActor, { type: 'lent-results', results }),
    async enqueueForwarded(entry, body) {
      // The sender queues the same part itself if our answer does not reach it in time.
      await queueBody(smtpDeps, body, entry, { mayRepeat: true, forwarded: true });
    },
    async queueList() {
      const reply = await ask<QueueMessage, { ok: true; entries: QueueListing[] } | Failure>(queueActor, (replyTo) => ({ type: 'list', replyTo }));
      return reply.ok ? reply.entries : [];
    },
    queueFlush: (domain) => dispatch(queueActor, { type: 'flush', domain }),
    nodeUp: (node) => dispatch(queueActor, { type: 'node-up', node }),
    async queueControl(action, queueId) {
      const reply = await ask<QueueMessage, ControlReply>(queueActor, (replyTo) => ({ type: 'control', action, queueId, replyTo }));
      return reply.ok ? { ok: true } : { ok: false, error: reply.error };
    },
    plugins: () => plugins.status(),
    largestMailboxes: () => largestMailboxes(directory, mailboxStore),
    async injectFault(mailboxId) {
      const reply = await mailboxes.askLocal<DoneReply>(mailboxId, (replyTo) => ({ type: 'inject-fault', replyTo }));
      return reply.ok ? { ok: true } : { ok: false, error: reply.error };
    },
  };

  const stopCollecting = collectOnScrape(nodeMetricsCollector(services));
  const backup = new BackupJob(db, log.child({ component: 'backup' }));
  const mailboxAdmin = new MailboxAdmin({ directory, mailboxes, blobs, auth, parent: system, log: log.child({ component: 'mailbox-admin' }) });
  let admin: { port: number; close(): Promise<void> } | null = null;
  let adminUrl = '';
  const token = randomBytes(24).toString('hex');
  const localAdmin: AdminBackend = { ...singleNodeAdmin(config, directory, services, mailboxes, authGuard, mailboxAdmin, backup, mailboxStore), plugins: plugins.status };
  if (!options.cluster) {
    admin = await startAdminApi(localAdmin, token, config.admin.bind, config.admin.port, log.child({ listener: 'admin' }))
      .catch(async (err: unknown) => {
        await abandon();
        throw listenFailure(err, config.admin.port, 'adminPort');
      });
    adminUrl = `http://${config.admin.bind.includes(':') ? `[${config.admin.bind}]` : config.admin.bind}:${admin.port}`;
    writeAdminFile(config.server.data, adminUrl, token);
  }

  ports.admin = admin?.port ?? 0;
  log.info({ ports, data: config.server.data }, 'ternmail started');

  let stopped = false;
  return {
    config, ports, adminUrl, token, directory, services, borrower, localAdmin,
    handleNodeRequest: (request) => handleNodeRequest(request, {
      services, directory, mailboxes, blobs, remote: options.cluster?.remote, mailboxAdmin, backup,
      move: options.cluster ? { self: options.cluster.nodeId, transport: options.cluster.transport, mailboxes, blobs, db, store: mailboxStore } : undefined,
    }),
    acceptPeer(protocol, socket) {
      const accept = plainAccept.get(protocol);
      accept?.(socket);
      return accept !== undefined;
    },
    reloadTls: () => reloadTls(tlsMaterial, log),
    async stop() {
      if (stopped) return;
      stopped = true;
      log.info('shutting down');
      await Promise.all(running.map((l) => l.close()));
      await admin?.close();
      authGuard.close();
      stopCollecting();
      mailboxes.close();
      await directory.drain();
      stop(system);
      await journal.drain();
      await db.close();
      removePidFile(config.server.data);
      log.info('stopped');
    },
  };
}

/** The node holding a user's mailbox, if placed and (across machines) live: where its mail is queued. */
function liveOwnerOf(directory: Directory, cluster: ClusterMembership): (address: string) => number | undefined {
  return (address) => {
    const node = directory.cache.nodeOfUser(address);
    return node === undefined || !cluster.isLive || cluster.isLive(node) ? node : undefined;
  };
}

function placeUser(directory: Directory, cluster: ClusterMembership, address: string): Promise<number | undefined> {
  const user = directory.cache.user(address);
  return user ? cluster.place(user.mailboxId) : Promise.resolve(undefined);
}

/** SIGHUP: only the TLS files are read again; every other setting needs a restart. */
function reloadTls(material: TlsMaterial | null, log: Logger): void {
  const note = 'other settings take effect only at restart';
  if (!material) {
    log.info(`reload: no TLS configured, nothing to reload (${note})`);
    return;
  }
  try {
    material.reload();
    log.info(`TLS key and certificate reloaded: new connections use them, open sessions keep theirs (${note})`);
  } catch (err) {
    log.error({ err }, `TLS reload failed, keeping the previous key and certificate: ${(err as Error).message}`);
  }
}

/** The admin API's view of a single-process server. */
function singleNodeAdmin(
  config: ServerConfig, directory: Directory, services: NodeServices, mailboxes: MailboxRegistry, auth: AuthGuard, mailboxAdmin: MailboxAdmin, backup: BackupJob, mailboxStore: MailboxStore,
): AdminBackend {
  return {
    directory, passwordCost: config.directory.passwordCost, importPasswordCost: config.directory.importPasswordCost, auth,
    metrics: () => renderMetrics(), metricsOpen: config.admin.metricsOpen, maxMessageSize: config.store.maxMessageSize,
    mailboxAdmin,
    backup,
    dashboard: { throughput: () => throughput(), rejections: async () => recentRefusals(), users: () => largestMailboxes(directory, mailboxStore) },
    stats: async () => ({ ...(await services.stats()), users: directory.cache.users.size, domains: directory.cache.domains.size }),
    queueList: () => services.queueList(),
    queueFlush: (domain) => services.queueFlush(domain),
    queueControl: (action, queueId) => services.queueControl(action, queueId),
    injectFault: async (address) => {
      const user = directory.cache.user(address);
      if (!user) return { ok: false, error: `unknown user: ${address}` };
      const reply = await mailboxes.ask<DoneReply>(user.mailboxId, (replyTo) => ({ type: 'inject-fault', replyTo }));
      return reply.ok ? { ok: true } : { ok: false, error: reply.error };
    },
  };
}

export function writeAdminFile(data: string, url: string, token: string): void {
  const adminFile = path.join(data, ADMIN_FILE);
  writeFileSync(adminFile, JSON.stringify({ url, token, pid: process.pid }) + '\n', { mode: 0o600 });
  chmodSync(adminFile, 0o600);
}

/**
 * The connection caps this process enforces. In a cluster the kernel hands new
 * connections to the workers in turn, so each worker running a listener takes its
 * share of the configured cap and the cluster as a whole stays within it.
 */
function connectionCapsOf(config: ServerConfig, inCluster: boolean): ConnectionCaps {
  const workersWith = (...roles: string[]): number => {
    if (!inCluster) return 1;
    let count = 0;
    for (let node = 1; node <= config.cluster.workers; node++) if (rolesOf(config.cluster, node).some((r) => roles.includes(r))) count++;
    return Math.max(1, count);
  };
  const share = (cap: number, ...roles: string[]): number => Math.ceil(cap / workersWith(...roles));
  return {
    perIp: share(config.net.maxConnectionsPerIp, 'mta', 'access'),
    total: { smtp: share(config.smtp.maxConnections, 'mta'), imap: share(config.imap.maxConnections, 'access'), pop3: share(config.pop3.maxConnections, 'access') },
  };
}
