// The `admin` section: where the admin HTTP API listens — apart from `net.bind`,
// because listeners may face the world and the admin API should not.
import { defineSection, type SettingsOf } from '../config/config.js';

export const adminSection = defineSection({
  name: 'admin',
  about: 'the admin HTTP API',
  settings: {
    port: { kind: 'port', default: 8025, legacy: 'adminPort', describe: 'admin HTTP API port' },
    bind: { kind: 'string', default: '127.0.0.1', legacy: 'adminBind', meta: 'ADDR', describe: 'admin HTTP API address, apart from --bind' },
    metricsOpen: { kind: 'bool', default: false, legacy: 'adminMetricsOpen', describe: 'serve GET /metrics without the admin token (for Prometheus; the token changes at each start)' },
  },
});

export type AdminSettings = SettingsOf<typeof adminSection>;
