// The `pop3` section: the POP3 listeners and their session limits.
import { defineSection, type SettingsOf } from '../config/config.js';

export const pop3Section = defineSection({
  name: 'pop3',
  about: 'POP3 listeners and session limits',
  settings: {
    port: { kind: 'port', default: 1110, legacy: 'pop3Port', describe: 'POP3 port' },
    tlsPort: { kind: 'port', default: 0, legacy: 'pop3sPort', describe: 'implicit-TLS POP3 port (POP3S); 0 = off; needs net.tls' },
    maxConnections: { kind: 'posint', default: 10_000, legacy: 'pop3MaxConnections', describe: 'open POP3 connections in this process, all addresses together' },
    loginTimeout: { kind: 'posint', default: 60, legacy: 'pop3LoginTimeout', meta: 'SECS', describe: 'seconds a connection may last without authenticating' },
  },
});

export type Pop3Settings = SettingsOf<typeof pop3Section>;
