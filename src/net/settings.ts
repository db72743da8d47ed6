// The `net` section: listener policy shared by SMTP, IMAP and POP3 — the address they
// listen on, their TLS material, and the per-address and per-account limits on
// connections and failed logins.
import { defineSection, type SettingsOf } from '../config/config.js';

export const netSection = defineSection({
  name: 'net',
  about: 'listener policy shared by SMTP, IMAP and POP3: address, TLS, connection and login limits',
  settings: {
    bind: { kind: 'string', default: '127.0.0.1', legacy: 'bind', meta: 'ADDR', describe: 'listen address' },
    tls: { kind: 'tls', default: null, legacy: 'tls', describe: 'TLS key and certificate (PEM files) for STARTTLS and the implicit-TLS ports' },
    allowPlaintextAuth: { kind: 'bool', default: false, legacy: 'allowPlaintextAuth', describe: 'allow AUTH/LOGIN without TLS from non-loopback clients' },
    maxConnectionsPerIp: { kind: 'posint', default: 200, legacy: 'maxConnectionsPerIp', describe: 'open connections per client address, SMTP, IMAP and POP3 together' },
    maxAuthFailuresPerIp: { kind: 'posint', default: 20, legacy: 'maxAuthFailuresPerIp', describe: 'failed logins from one address before it is blocked' },
    maxAuthFailuresPerAccount: { kind: 'posint', default: 10, legacy: 'maxAuthFailuresPerAccount', describe: 'failed logins for one account (from any address) before its logins are locked' },
    authDelayAfter: { kind: 'posint', default: 5, legacy: 'authDelayAfter', describe: 'failed logins for one account after which each further attempt waits 1 s, 2 s, 4 s ... (up to 16 s)' },
    authLockSeconds: { kind: 'posint', default: 900, legacy: 'authLockSeconds', meta: 'SECS', describe: 'seconds a locked account refuses logins, correct passwords included' },
  },
});

export type NetSettings = SettingsOf<typeof netSection>;
