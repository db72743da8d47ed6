// The `cluster` section: how many worker processes, what each does, and how they share
// work and report to the primary; or, with `--cluster`, this node's place among nodes
// on many machines joined through NATS.
import { ConfigError, defineSection, type SettingsOf } from '../config/config.js';
import { MAX_MACHINE_NODE } from './worker-nodes.js';

export const clusterSection = defineSection({
  name: 'cluster',
  about: 'worker processes and their roles',
  settings: {
    workers: { kind: 'workers', default: 1, legacy: 'workers', describe: 'worker processes (1 = one process; auto = one per core)' },
    roles: { kind: 'roles', default: [['mta', 'store', 'access']], legacy: 'roles', describe: 'worker roles mta,store,access; ";" gives each worker its own list' },
    lendThreshold: { kind: 'posint', default: 200, legacy: 'lendThreshold', describe: 'ready local deliveries on a worker before idle workers borrow from it' },
    forwardTimeout: { kind: 'posint', default: 30_000, legacy: 'forwardTimeout', meta: 'MS', describe: 'milliseconds the accepting node waits for the mailbox\'s node to queue its part of a message before queueing it itself' },
    workersAccept: { kind: 'bool', default: false, legacy: 'workersAccept', describe: 'with --workers, each worker accepts connections from the shared listening socket itself (the kernel spreads them; the primary handles no connection) instead of the primary accepting each and passing it to the workers in turn' },
    heartbeatInterval: { kind: 'posint', default: 1000, legacy: 'heartbeatInterval', meta: 'MS', describe: 'milliseconds between worker reports to the primary' },
    nats: { kind: 'optstring', default: '', legacy: 'cluster', meta: 'URLS', describe: 'NATS servers (nats://HOST:PORT,...) joining this node to a cluster of machines; empty = no NATS' },
    nodeId: { kind: 'nonneg', default: 0, legacy: 'nodeId', meta: 'N', describe: 'this node\'s number in a NATS cluster (1 to 99), unique among the machines; with --workers, worker k joins as node N*100+k' },
    leaseInterval: { kind: 'posint', default: 2000, legacy: 'leaseInterval', meta: 'MS', describe: 'milliseconds between refreshes of this node\'s lease in a NATS cluster' },
    leaseTtl: { kind: 'posint', default: 10_000, legacy: 'leaseTtl', meta: 'MS', describe: 'a node whose lease is older than this is lapsed: no new mailboxes, reported by cluster status' },
    sessionProxy: { kind: 'bool', default: true, legacy: 'sessionProxy', describe: 'in a NATS cluster, relay an IMAP/POP3 session logged in away from its mailbox to the node holding it (false: every command crosses NATS)' },
    secret: { kind: 'optstring', default: '', legacy: 'clusterSecret', meta: 'SECRET', describe: 'shared secret of a NATS cluster for the session proxy\'s logins on other nodes; empty = one made at first start and kept in NATS' },
    natsUser: { kind: 'optstring', default: '', legacy: 'natsUser', meta: 'USER', describe: 'NATS user name (or user:password@ in the --cluster URLs)' },
    natsPassword: { kind: 'optstring', default: '', legacy: 'natsPassword', meta: 'PASSWORD', describe: 'NATS password for natsUser' },
    natsToken: { kind: 'optstring', default: '', legacy: 'natsToken', meta: 'TOKEN', describe: 'NATS authentication token (or token@ in the --cluster URLs)' },
    natsCreds: { kind: 'optstring', default: '', legacy: 'natsCreds', meta: 'FILE', describe: 'NATS credentials file (user JWT and NKey seed, from nsc)' },
    natsNkey: { kind: 'optstring', default: '', legacy: 'natsNkey', meta: 'FILE', describe: 'file holding a NATS user NKey seed (SU...)' },
    natsCa: { kind: 'optstring', default: '', legacy: 'natsCa', meta: 'FILE', describe: 'CA certificate (PEM) the NATS servers\' certificates are checked against; set = TLS to NATS' },
    natsCert: { kind: 'optstring', default: '', legacy: 'natsCert', meta: 'FILE', describe: 'client certificate (PEM) for NATS servers that verify clients (with natsKey)' },
    natsKey: { kind: 'optstring', default: '', legacy: 'natsKey', meta: 'FILE', describe: 'client certificate key (PEM) for natsCert' },
  },
  check(values) {
    if (values.nats !== '') {
      if (values.nodeId === 0) throw new ConfigError('nodeId', 'a node of a NATS cluster needs --node-id N (1, 2, ...)');
      if (values.nodeId > MAX_MACHINE_NODE) throw new ConfigError('nodeId', `1 to ${MAX_MACHINE_NODE}: worker k of node N joins the cluster as node N*100+k`);
      if (values.roles.length > 1) throw new ConfigError('roles', 'a node of a NATS cluster has one role list (no ";")');
      if ((values.natsCert === '') !== (values.natsKey === '')) throw new ConfigError(values.natsCert === '' ? 'natsCert' : 'natsKey', 'a NATS client certificate needs both natsCert and natsKey');
      if (values.natsPassword !== '' && values.natsUser === '') throw new ConfigError('natsPassword', 'a NATS password needs natsUser');
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
