// Who accepts the connections of a cluster's listeners. By default the primary accepts
// each one and passes its descriptor to a worker in turn (Node's round robin): an IPC
// message with the handle, the worker's acknowledgement and its reply, per connection,
// in two processes. With `cluster.workersAccept` every worker holds the listening
// socket and accepts from it itself: the primary does no work per connection, and a
// worker that is busy or throttled (a CPU quota) leaves new connections to the others.
// The kernel decides which worker gets a connection, so two connections in a row may
// go to the same worker; nothing else changes (caps per worker, handoff after login).
import cluster from 'node:cluster';

/** Must run before the first `cluster.setupPrimary` or `fork` of this process. */
export function applyAcceptPolicy(workersAccept: boolean): void {
  cluster.schedulingPolicy = workersAccept ? cluster.SCHED_NONE : cluster.SCHED_RR;
}
