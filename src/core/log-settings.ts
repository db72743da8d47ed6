// The `log` section: how much the node logs, where to and in which form.
import { ConfigError, defineSection, type SettingsOf } from '../config/config.js';

const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const formats = ['json', 'pretty'];

export const logSection = defineSection({
  name: 'log',
  about: 'logging',
  settings: {
    level: { kind: 'string', default: 'info', legacy: 'logLevel', meta: 'LEVEL', describe: 'trace|debug|info|warn|error|fatal|silent' },
    file: { kind: 'optstring', default: '', legacy: 'logFile', meta: 'PATH', describe: 'write the log to this file instead of standard output; reopened on SIGUSR1 (logrotate)' },
    format: { kind: 'string', default: 'json', legacy: 'logFormat', meta: 'FORMAT', describe: 'json (one JSON object per line) | pretty (readable text)' },
  },
  check(values) {
    if (!levels.includes(values.level)) throw new ConfigError('logLevel', `unknown level ${values.level}`);
    if (!formats.includes(values.format)) throw new ConfigError('logFormat', `unknown format ${values.format} (json, pretty)`);
  },
});

export type LogSettings = SettingsOf<typeof logSection>;
