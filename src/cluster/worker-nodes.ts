// The node numbers of a machine that runs `--cluster … --node-id N --workers K`: each
// worker process joins the cluster as a node of its own, numbered N*100 + k (worker k
// of machine node N), so placement, the transport, the session proxy and leases need
// nothing new. Machines therefore take the numbers 1 to 99; a worker's number says
// which machine it runs on.
import path from 'node:path';

/** The highest `--node-id` of a machine: the numbers above are its workers'. */
export const MAX_MACHINE_NODE = 99;

export function workerNodeId(machineNode: number, worker: number): number {
  return machineNode * 100 + worker;
}

/** The data folder of worker k under the node's folder: its own store, its own lock. */
export function workerDataPath(data: string, worker: number): string {
  return path.join(data, `worker-${worker}`);
}

/** The process environment a node's primary hands its workers. */
export const NODE_WORKER_ENV = { index: 'TERNMAIL_NODE_WORKER', adminToken: 'TERNMAIL_NODE_ADMIN_TOKEN' } as const;
