// The `log` section: how much the node logs.
import { ConfigError, defineSection, type SettingsOf } from '../config/config.js';

const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export const logSection = defineSection({
  name: 'log',
  about: 'logging',
  settings: {
    level: { kind: 'string', default: 'info', legacy: 'logLevel', meta: 'LEVEL', describe: 'trace|debug|info|warn|error|fatal|silent' },
  },
  check(values) {
    if (!levels.includes(values.level)) throw new ConfigError('logLevel', `unknown level ${values.level}`);
  },
});

export type LogSettings = SettingsOf<typeof logSection>;
