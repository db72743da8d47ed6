// A node of a cluster of machines (`ternmail start --cluster nats://… --node-id N`):
// one process with its own store, joined to the others through NATS. The directory
// is authoritative in a JetStream KV bucket and cached here from its watch; the
// node's lease in another bucket says it is up; mailboxes are placed, without a
// master, by whichever node first needs one; requests to other nodes go over NATS
// request/reply. Its admin API answers for the whole cluster, as every node's does.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ServerConfig } from './settings.js';
import type { Logger } from './core/logger.js';
import { start, stop } from './core/supervision.js';
import { Directory } from './directory/directory.js';
import { DIRECTORY_BUCKET, KvDirectory } from './directory/kv-directory.js';
import { NatsTransport } from './transport/nats-transport.js';
import { AuthGuard, authLimitsOf } from './net/auth-guard.js';
import { startAdminApi, type AdminBackend } from './admin/admin-api.js';
import { NodeUnavailableError } from './mailbox/registry.js';
import type { NodeRequest } from './cluster/protocol.js';
import { connectToNats, natsConnectionOf, openBucket } from './cluster/nats-connection.js';
import { Membership, NODES_BUCKET, type NodeLease, type NodeLoad } from './cluster/membership.js';
import { choosePlacement } from './cluster/placement.js';
import { Rebalancer } from './cluster/rebalance.js';
import { renderMetrics, type MetricsJson } from './core/metrics.js';
import { fanOutAdmin } from './cluster/fan-out-admin.js';
import { startServer, writeAdminFile, type RunningServer } from './server.js';
import { listenFailure } from './core/startup-error.js';
import { SessionProxy } from './cluster/session-proxy.js';
import { ClusterAuthGate } from './cluster/shared-auth.js';
import { clusterSecretOf, PeerTickets } from './cluster/peer-tickets.js';
import { trustClusterPeers } from './net/cluster-peers.js';
import type { OwnerEndpoint, ProxiedProtocol } from './cluster/owner-login.js';
import { workerNodeId } from './cluster/worker-nodes.js';
import type { NodeWorkerReady } from './node-workers.js';
import { openPeerPorts, type PeerPorts } from './cluster/peer-ports.js';

const FAN_OUT_TIMEOUT_MS = 10_000;
/** The primary's node number on one machine; its requests (a move's placement switch) go to any node here. */
const PRIMARY = 0;

/** The addresses this node is reached at and connects from: its bind address, or every interface's for a wildcard. */
function addressesOf(bind: string): string[] {
  if (bind !== '0.0.0.0' && bind !== '::') return [bind];
  return Object.values(os.networkInterfaces()).flat().filter((i) => i !== undefined && !i.internal).map((i) => i!.address);
}

async function movePlacement(directory: Directory, mailboxId: string, node: number): Promise<null> {
  const reply = await directory.request((replyTo) => ({ type: 'set-placement', mailboxId, node, force: true, replyTo }));
  if (!reply.ok) throw new Error(reply.error);
  return null;
}

/**
 * `worker`: this process is worker k of a node run with `--workers` (src/node-workers.ts):
 * it joins as node N*100+k, with the admin token its primary gave it, and listens on
 * ports of its own for the sessions other nodes relay to it (the machine's listeners
 * are shared by its workers, so a connection there may land on any of them).
 */
export async function runNode(config: ServerConfig, log: Logger, worker?: { index: number; adminToken: string }): Promise<{ stop(): Promise<void>; reloadTls(): void }> {
  const self = worker ? workerNodeId(config.cluster.nodeId, worker.index) : config.cluster.nodeId;
  const roles = config.cluster.roles[0];
  const { servers, security } = natsConnectionOf(config.cluster.nats, config.cluster);
  const nc = await connectToNats(servers, self, log.child({ component: 'nats' }), security);
  const replicas = Math.min(3, servers.length);
  // Bodies cross nodes in one request (delivery, RETR, FETCH, a mailbox move's batches of 8 MiB).
  const maxPayload = nc.info?.max_payload ?? 0;
  if (maxPayload < config.store.maxMessageSize + 1024 * 1024) {
    log.warn({ maxPayload, maxMessageSize: config.store.maxMessageSize }, 'NATS max_payload is below the largest message: larger bodies cannot cross nodes; set max_payload: 64MB on the NATS servers');
  }
  const [directoryKv, nodesKv] = await Promise.all([
    openBucket(nc, DIRECTORY_BUCKET, replicas, log), openBucket(nc, NODES_BUCKET, replicas, log),
  ]);

  const system = start();
  const directory = new Directory(null, log.child({ actor: 'directory' }), { passwordCost: config.directory.passwordCost, defaultQuota: config.mailbox.defaultQuota });
  const kvDirectory = new KvDirectory(directoryKv, directory.cache, log.child({ component: 'kv-directory' }));
  await kvDirectory.start();
  directory.startShared(system, kvDirectory);

  let server: RunningServer | null = null;
  const transport = new NatsTransport(nc, self, async (body) => {
    const request = body as NodeRequest;
    // What the primary does on one machine, any node does here: a moved mailbox's new placement.
    if (request.kind === 'move-placement') return movePlacement(directory, request.mailboxId, request.node);
    if (!server) throw new Error(`node ${self} is starting`);
    return server.handleNodeRequest(request);
  });
  transport.listen(PRIMARY);

  const startedAt = Date.now();
  let adminUrl = '';
  let load: NodeLoad = { mailboxes: 0, sessions: 0, queued: 0, delivered: 0 };
  const addresses = addressesOf(config.net.bind);
  let peerPorts: PeerPorts | null = null;
  const lease = (): NodeLease => ({
    node: self, roles, host: config.net.bind, addresses,
    imapPort: peerPorts?.imap ?? server?.ports.imap ?? 0, pop3Port: peerPorts?.pop3 ?? server?.ports.pop3 ?? 0,
    adminUrl, pid: process.pid, startedAt, state: 'up', load,
  });
  const membership = new Membership(nodesKv, {
    self: lease, intervalMs: config.cluster.leaseInterval, ttlMs: config.cluster.leaseTtl, log: log.child({ component: 'membership' }),
    onNodeUp: (node) => server?.services.nodeUp(node),
  });
  membership.follow();

  const placing = new Map<number, number>();
  const place = async (mailboxId: string): Promise<number> => {
    const known = directory.cache.nodeOf(mailboxId);
    if (known !== undefined) return known;
    const node = choosePlacement(membership.liveStoreNodes(), directory.cache.mailboxesPerNode(), placing);
    if (node === null) throw new NodeUnavailableError(0, new Error('no store node holds a live lease'));
    placing.set(node, (placing.get(node) ?? 0) + 1);
    try {
      return await kvDirectory.place(mailboxId, node);
    } finally {
      placing.set(node, (placing.get(node) ?? 1) - 1);
    }
  };

  // Sessions logged in away from their mailbox are relayed to its node, which accepts this node's tickets.
  const isPeer = (address: string) => membership.view().some((v) => v.status === 'up' && v.node !== self && (v.addresses ?? [v.host]).includes(address));
  const tickets = new PeerTickets(await clusterSecretOf(nodesKv, config.cluster.secret), isPeer);
  directory.peerLogin = (address, account, password) => tickets.accepts(address, account, password);
  trustClusterPeers(isPeer);
  const endpointOf = (node: number, protocol: ProxiedProtocol): OwnerEndpoint | null => {
    const owner = membership.liveLease(node);
    const port = protocol === 'imap' ? owner?.imapPort : owner?.pop3Port;
    if (!owner || !port || !owner.roles.includes('access')) return null;
    const host = owner.addresses?.[0] ?? owner.host;
    return { host, port, ...(addresses.length === 1 && addresses[0] === config.net.bind ? { localAddress: config.net.bind } : {}) };
  };
  const handoff = config.cluster.sessionProxy ? new SessionProxy({
    self, ownerOf: (mailboxId) => directory.cache.nodeOf(mailboxId), endpointOf, ticketFor: (account) => tickets.issue(account), log: log.child({ component: 'session-proxy' }),
  }) : undefined;

  const guard = new AuthGuard(authLimitsOf(config.net), log.child({ component: 'auth-guard' }));
  const auth = new ClusterAuthGate(nc, self, guard, log.child({ component: 'auth-sharing' }));
  auth.start();
  server = await startServer(config, log, {
    roles, cluster: { nodeId: self, transport, directory, auth, place, isLive: (node) => node === self || membership.isLive(node), placeAtAcceptance: true, ...(handoff ? { handoff } : {}) },
  });
  const running = server;
  if (worker) peerPorts = await openPeerPorts((protocol, socket) => running.acceptPeer(protocol, socket), config.net.bind, log.child({ component: 'peer-ports' }));

  const refreshLoad = async () => {
    const counters = await running.services.stats({ mailboxTotals: false });
    load = { mailboxes: directory.cache.mailboxesPerNode().get(self) ?? 0, sessions: counters.sessions, queued: counters.queued, delivered: counters.delivered };
  };
  await refreshLoad();
  const loadTimer = setInterval(() => void refreshLoad().catch((err) => log.debug({ err }, 'load not measured')), config.cluster.leaseInterval);
  loadTimer.unref();

  const rebalancer = new Rebalancer(directory, transport, () => membership.liveStoreNodes(),
    () => membership.view().filter((v) => v.status === 'up' && !v.roles.includes('store')).map((v) => v.node));
  const live = () => membership.view().filter((v) => v.status === 'up').map((v) => v.node);
  const ask = <T>(node: number, request: NodeRequest) => transport.request<T>(node, request, FAN_OUT_TIMEOUT_MS);
  // This machine's metrics, dashboard, mailbox admin, backup and plugins; the cluster-wide parts below.
  const others = () => live().filter((n) => n !== self);
  const fanOut = fanOutAdmin(live, ask);
  const backend: AdminBackend = {
    ...running.localAdmin,
    // Every live node's registry, summed with this one's (per-process figures carry their node label).
    metrics: async () => renderMetrics(await Promise.all(others().map((n) => ask<MetricsJson>(n, { kind: 'metrics' }).catch(() => [])))),
    directory, passwordCost: config.directory.passwordCost, importPasswordCost: config.directory.importPasswordCost, auth,
    stats: () => fanOut.stats({ users: directory.cache.users.size, domains: directory.cache.domains.size, nodes: membership.view().length, nodesUp: live().length }),
    queueList: fanOut.queueList, queueFlush: fanOut.queueFlush, queueControl: fanOut.queueControl,
    async injectFault(address) {
      const user = directory.cache.user(address);
      if (!user) return { ok: false, error: `unknown user: ${address}` };
      return ask<{ ok: boolean; error?: string }>(await place(user.mailboxId), { kind: 'inject-fault', mailboxId: user.mailboxId });
    },
    rebalance: { start: () => rebalancer.start(), status: () => rebalancer.status(), stop: () => rebalancer.stop() },
    clusterStatus: () => ({
      nodes: membership.view().map((v) => ({ ...v, load: { ...v.load, mailboxes: directory.cache.mailboxesPerNode().get(v.node) ?? 0 } })),
      self,
    }),
  };
  const token = worker?.adminToken ?? randomBytes(24).toString('hex');
  const admin = await startAdminApi(backend, token, config.admin.bind, config.admin.port, log.child({ listener: 'admin' })).catch(async (err: unknown) => {
    await running.stop();
    throw listenFailure(err, config.admin.port, 'adminPort');
  });
  adminUrl = `http://${config.admin.bind.includes(':') ? `[${config.admin.bind}]` : config.admin.bind}:${admin.port}`;
  writeAdminFile(config.server.data, adminUrl, token);
  await membership.announce();
  log.info({ node: self, roles, nats: nc.getServer(), admin: adminUrl }, 'ternmail node joined the cluster');
  if (worker) process.send?.({ type: 'ternmail-node-worker-ready', adminUrl } satisfies NodeWorkerReady);

  return {
    reloadTls: () => running.reloadTls(),
    async stop() {
      clearInterval(loadTimer);
      await membership.leave();
      await peerPorts?.close();
      await admin.close();
      await running.stop();
      kvDirectory.stop();
      await transport.close();
      auth.close();
      guard.close();
      stop(system);
      await nc.drain().catch(() => nc.close());
      log.info({ node: self }, 'node left the cluster');
    },
  };
}
