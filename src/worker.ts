// A worker process of a cluster: serves its node socket, loads the directory replica
// from the primary and follows its change feed, then runs a full node (mta, store,
// access) on its own store shard. It exits when the primary goes away.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { rolesOf, type ServerConfig } from './settings.js';
import type { Logger } from './core/logger.js';
import { Directory } from './directory/directory.js';
import { startServer, type RunningServer } from './server.js';
import { UnixSocketTransport } from './transport/transport.js';
import { nodeDataPath, nodeSocketPath } from './transport/paths.js';
import type { DirSnapshot, NodeRequest, NodeStats } from './cluster/protocol.js';
import type { DirectoryChange } from './directory/records.js';
import { SessionHandoff } from './transport/handoff.js';
import { PrimaryAuthGate } from './cluster/auth-sharing.js';
import { AuthGuard, authLimitsOf } from './net/auth-guard.js';

const PRIMARY = 0;

export async function runWorker(config: ServerConfig, log: Logger, nodeId: number, roles: string[]): Promise<void> {
  mkdirSync(path.join(config.server.data, 'run'), { recursive: true });
  let server: RunningServer | null = null;
  const early: NodeRequest[] = [];
  const transport = new UnixSocketTransport(nodeId, (n) => nodeSocketPath(config.server.data, n), async (body) => {
    const request = body as NodeRequest;
    if (server) return server.handleNodeRequest(request);
    if (request.kind === 'dir-changes') {
      early.push(request);
      return { gap: false };
    }
    throw new Error(`node ${nodeId} is starting`);
  });
  await transport.listen();

  const directory = new Directory(null, log.child({ actor: 'directory-replica' }), { passwordCost: config.directory.passwordCost, defaultQuota: config.mailbox.defaultQuota });
  const snapshot = await transport.request<DirSnapshot>(PRIMARY, { kind: 'dir-snapshot' } satisfies NodeRequest);
  directory.startReplica({ request: (message) => transport.request(PRIMARY, { kind: 'dir-request', message } satisfies NodeRequest) }, snapshot);
  const catchUp = async () => {
    const changes = await transport.request<DirectoryChange[]>(PRIMARY, { kind: 'dir-since', seq: directory.cache.appliedSeq } satisfies NodeRequest);
    directory.applyChanges(changes);
  };
  for (const request of early) if (request.kind === 'dir-changes' && !directory.applyChanges(request.changes)) await catchUp();

  const accessNodes = new Set<number>();
  for (let node = 1; node <= config.cluster.workers; node++) if (rolesOf(config.cluster, node).includes('access')) accessNodes.add(node);
  const handoff = new SessionHandoff(nodeId, accessNodes, (mailboxId) => directory.cache.nodeOf(mailboxId), log.child({ component: 'handoff' }));

  const authLog = log.child({ component: 'auth-guard' });
  const auth = new PrimaryAuthGate(transport, new AuthGuard(authLimitsOf(config.net), authLog), authLog);

  const startedAt = Date.now();
  server = await startServer({ ...config, server: { ...config.server, data: nodeDataPath(config.server.data, nodeId) } }, log, {
    roles,
    cluster: {
      nodeId, transport, directory, handoff, auth,
      place: (mailboxId) => transport.request<number>(PRIMARY, { kind: 'place', mailboxId } satisfies NodeRequest),
    },
  });
  const running = server;

  const heartbeat = setInterval(async () => {
    try {
      const counters = await running.services.stats({ mailboxTotals: false });
      const stats: NodeStats = { node: nodeId, pid: process.pid, roles, startedAt, ...counters };
      const reply = await transport.request<{ appliedSeq: number; donor: number | null }>(PRIMARY, { kind: 'heartbeat', stats } satisfies NodeRequest);
      if (reply.appliedSeq > directory.cache.appliedSeq) await catchUp();
      running.borrower?.borrowFrom(reply.donor);
    } catch (err) {
      log.warn({ err }, 'heartbeat to the primary failed');
    }
  }, config.cluster.heartbeatInterval);
  heartbeat.unref();

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(heartbeat);
    log.info({ node: nodeId, why }, 'worker stopping');
    await running.stop();
    await transport.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => running.reloadTls());
  process.on('disconnect', () => void shutdown('primary gone'));
  log.info({ node: nodeId }, 'worker ready');
  process.send?.({ type: 'ternmail-worker-ready', node: nodeId });
}
