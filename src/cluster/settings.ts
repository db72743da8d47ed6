// The `cluster` section: how many worker processes, what each does, and how they share
// work and report to the primary.
import { ConfigError, defineSection, type SettingsOf } from '../config/config.js';

export const clusterSection = defineSection({
  name: 'cluster',
  about: 'worker processes and their roles',
  settings: {
    workers: { kind: 'workers', default: 1, legacy: 'workers', describe: 'worker processes (1 = one process; auto = one per core)' },
    roles: { kind: 'roles', default: [['mta', 'store', 'access']], legacy: 'roles', describe: 'worker roles mta,store,access; ";" gives each worker its own list' },
    lendThreshold: { kind: 'posint', default: 200, legacy: 'lendThreshold', describe: 'ready local deliveries on a worker before idle workers borrow from it' },
    heartbeatInterval: { kind: 'posint', default: 1000, legacy: 'heartbeatInterval', meta: 'MS', describe: 'milliseconds between worker reports to the primary' },
  },
  check(values) {
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
