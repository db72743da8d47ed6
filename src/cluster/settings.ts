// The `cluster` section: how many worker processes, what each does, and how they share
// work and report to the primary; or, with `--cluster`, this node's place among nodes
// on many machines joined through NATS.
import { ConfigError, defineSection, type SettingsOf } from '../config/config.js';

export const clusterSection = defineSection({
  name: 'cluster',
  about: 'worker processes and their roles',
  settings: {
    workers: { kind: 'workers', default: 1, legacy: 'workers', describe: 'worker processes (1 = one process; auto = one per core)' },
    roles: { kind: 'roles', default: [['mta', 'store', 'access']], legacy: 'roles', describe: 'worker roles mta,store,access; ";" gives each worker its own list' },
    lendThreshold: { kind: 'posint', default: 200, legacy: 'lendThreshold', describe: 'ready local deliveries on a worker before idle workers borrow from it' },
    heartbeatInterval: { kind: 'posint', default: 1000, legacy: 'heartbeatInterval', meta: 'MS', describe: 'milliseconds between worker reports to the primary' },
    nats: { kind: 'optstring', default: '', legacy: 'cluster', meta: 'URLS', describe: 'NATS servers (nats://HOST:PORT,...) joining this node to a cluster of machines; empty = no NATS' },
    nodeId: { kind: 'nonneg', default: 0, legacy: 'nodeId', meta: 'N', describe: 'this node\'s number in a NATS cluster (1, 2, ...), unique among the machines' },
    leaseInterval: { kind: 'posint', default: 2000, legacy: 'leaseInterval', meta: 'MS', describe: 'milliseconds between refreshes of this node\'s lease in a NATS cluster' },
    leaseTtl: { kind: 'posint', default: 10_000, legacy: 'leaseTtl', meta: 'MS', describe: 'a node whose lease is older than this is lapsed: no new mailboxes, reported by cluster status' },
  },
  check(values) {
    if (values.nats !== '') {
      if (values.nodeId === 0) throw new ConfigError('nodeId', 'a node of a NATS cluster needs --node-id N (1, 2, ...)');
      if (values.workers > 1) throw new ConfigError('workers', 'a node of a NATS cluster runs as one process for now (--workers 1)');
      if (values.roles.length > 1) throw new ConfigError('roles', 'a node of a NATS cluster has one role list (no ";")');
      return;
    }
    if (values.roles.length > 1 && values.roles.length !== values.workers) {
      throw new ConfigError('roles', `${values.roles.length} role lists for ${values.workers} workers`);
    }
    if (!values.roles.some((r) => r.includes('store'))) throw new ConfigError('roles', 'at least one worker needs the store role');
  },
});

export type ClusterSettings = SettingsOf<typeof clusterSection>;

/** The roles of worker `node` (1-based); worker 1's for a single process. */
export function rolesOf(cluster: ClusterSettings, node: number): string[] {
  return cluster.roles.length === 1 ? cluster.roles[0] : cluster.roles[node - 1];
}
