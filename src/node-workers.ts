// A node of a cluster of machines that runs `--workers K`: this process (the node's
// primary) never joins NATS; it forks K workers, each of which joins the cluster as a
// node of its own (worker k of node N is node N*100+k, src/cluster/worker-nodes.ts)
// with its own store under DATA/worker-k. So placement, the transport, the session
// proxy, leases and faults work as between machines, with nothing new to get right.
// The listeners of the machine (SMTP, IMAP, POP3, admin) are shared by the workers
// through node:cluster, which hands connections out in turn; each worker also listens
// on a port of its own for the sessions the other nodes relay to it. A worker that
// exits is started again (with the backoff of `--workers`); meanwhile its mailboxes
// answer as those of a node that is down. The admin API answers from any worker with
// one token, which this process writes to DATA/admin.json.
// With `--user` (started as root), the workers run as that user from their start and
// this process, which binds the shared listeners for them, becomes the user once every
// worker has joined; should every worker die at once while it binds a port below 1024,
// it cannot bind it again and exits 75 for the service manager to start it as root.
import cluster, { type Worker } from 'node:cluster';
import { applyAcceptPolicy } from './cluster/accept-policy.js';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ServerConfig } from './settings.js';
import type { Logger } from './core/logger.js';
import { decideRestart } from './core/restart-policy.js';
import { WORKER_RESTART, type RunAs } from './primary.js';
import { writeAdminFile } from './server.js';
import { singleStorePath } from './cluster/data-layout.js';
import { NODE_WORKER_ENV, workerNodeId } from './cluster/worker-nodes.js';

/** What a worker tells this process once it has joined the cluster. */
export interface NodeWorkerReady {
  type: 'ternmail-node-worker-ready';
  adminUrl: string;
}

const STOP_GRACE_MS = 15_000;

export async function runNodeWorkers(config: ServerConfig, log: Logger, runAs?: RunAs): Promise<{ stop(): Promise<void> }> {
  const data = config.server.data;
  if (existsSync(singleStorePath(data))) {
    // Its mailboxes are placed on node N, which no process of this machine is any more.
    throw new Error(`${data} holds the store of this node run as one process (${singleStorePath(data)}): start it without --workers, or give the workers a new data folder once its mailboxes are moved to other nodes`);
  }
  const machine = config.cluster.nodeId;
  const count = config.cluster.workers;
  const token = randomBytes(24).toString('hex');
  runAs?.handOver();
  applyAcceptPolicy(config.cluster.workersAccept);
  cluster.setupPrimary({ exec: process.argv[1], args: process.argv.slice(2), silent: false, ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
  const workers = new Map<number, Worker>();
  const restarts = new Map<number, number[]>();
  let stopping = false;
  let adminWritten = false;
  /** Workers that have joined at least once: start-up is done when every index has (a restarted one counts too). */
  const joined = new Set<number>();
  let allReady!: () => void;
  const started = new Promise<void>((resolve) => (allReady = resolve));

  let privilegesDropped = false;
  const dropOnceAllJoined = () => {
    if (!runAs || privilegesDropped) return;
    privilegesDropped = true;
    runAs.drop();
  };

  const fork = (index: number) => {
    const node = workerNodeId(machine, index);
    const worker = cluster.fork({ [NODE_WORKER_ENV.index]: String(index), [NODE_WORKER_ENV.adminToken]: token });
    workers.set(index, worker);
    worker.on('message', (msg: Partial<NodeWorkerReady>) => {
      if (msg?.type !== 'ternmail-node-worker-ready') return;
      log.info({ worker: index, node, workerPid: worker.process.pid }, 'node worker joined the cluster');
      if (!adminWritten && typeof msg.adminUrl === 'string') {
        writeAdminFile(data, msg.adminUrl, token);
        adminWritten = true;
      }
      joined.add(index);
      if (joined.size === count) {
        allReady();
        dropOnceAllJoined();
      }
    });
    worker.on('exit', (code, signal) => {
      if (workers.get(index) === worker) workers.delete(index);
      if (stopping) return;
      if (runAs?.privilegedPorts && privilegesDropped && workers.size === 0) {
        // node:cluster closed the shared listeners with their last holder.
        log.fatal({ worker: index, node, code, signal }, 'no worker holds the privileged listeners any more and this process cannot bind them again as --user; exiting for the service manager to restart');
        stopping = true;
        process.exit(75);
      }
      const { decision, recent } = decideRestart(restarts.get(index) ?? [], Date.now(), WORKER_RESTART);
      restarts.set(index, recent);
      if (decision.action === 'give-up') {
        log.error({ worker: index, node, code, signal }, 'node worker exited too often; not restarting it');
        return;
      }
      log.warn({ worker: index, node, code, signal, restartIn: decision.delayMs }, 'node worker exited; restarting');
      setTimeout(() => {
        if (!stopping) fork(index);
      }, decision.delayMs).unref();
    });
  };

  for (let index = 1; index <= count; index++) fork(index);
  await started;
  log.info({ node: machine, workers: count, nodes: [...workers.keys()].map((k) => workerNodeId(machine, k)) }, 'ternmail node joined the cluster with its workers');

  return {
    async stop() {
      stopping = true;
      await Promise.all([...workers.values()].map((worker) => new Promise<void>((resolve) => {
        if (worker.isDead()) return resolve();
        const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        worker.process.kill('SIGTERM');
      })));
      log.info({ node: machine }, 'node left the cluster');
    },
  };
}
