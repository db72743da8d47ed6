// The `imap` section: the IMAP listeners and the limits of one IMAP session and of all
// of them together in this process.
import { defineSection, type SettingsOf } from '../config/config.js';

export const imapSection = defineSection({
  name: 'imap',
  about: 'IMAP listeners and session limits',
  settings: {
    port: { kind: 'port', default: 1143, legacy: 'imapPort', describe: 'IMAP port' },
    tlsPort: { kind: 'port', default: 0, legacy: 'imapsPort', describe: 'implicit-TLS IMAP port (IMAPS); 0 = off; needs net.tls' },
    maxConnections: { kind: 'posint', default: 10_000, legacy: 'imapMaxConnections', describe: 'open IMAP connections in this process, all addresses together' },
    idleTimeout: { kind: 'posint', default: 30 * 60, legacy: 'imapIdleTimeout', meta: 'SECS', describe: 'autologout after this many seconds without a command (RFC 3501: at least 30 minutes)' },
    loginTimeout: { kind: 'posint', default: 60, legacy: 'imapLoginTimeout', meta: 'SECS', describe: 'seconds a connection may last without authenticating' },
    maxLineLength: { kind: 'posint', default: 64 * 1024, legacy: 'imapMaxLineLength', describe: 'longest command line in bytes' },
    maxLiteralSize: { kind: 'posint', default: 64 * 1024, legacy: 'imapMaxLiteralSize', describe: 'largest literal outside APPEND (APPEND is bounded by store.maxMessageSize)' },
    literalBudget: { kind: 'posint', default: 256 * 1024 * 1024, legacy: 'imapLiteralBudget', describe: 'bytes all IMAP connections of this process may hold in literals at once' },
    maxSearchKeys: { kind: 'posint', default: 1000, legacy: 'imapMaxSearchKeys', describe: 'search keys in one SEARCH command' },
    outputBuffer: { kind: 'posint', default: 4 * 1024 * 1024, legacy: 'imapOutputBuffer', describe: 'output a client may leave unread before the stall timer starts (bytes)' },
    literalPlus: { kind: 'bool', default: true, legacy: 'imapLiteralPlus', describe: 'advertise LITERAL+ (non-synchronizing literals of any allowed size); false: LITERAL- (RFC 7888), such literals over 4096 bytes are refused BAD [TOOBIG]' },
    outputStall: { kind: 'posint', default: 10, legacy: 'imapOutputStall', meta: 'SECS', describe: 'seconds a client may leave that output unread before it is disconnected' },
  },
});

export type ImapSettings = SettingsOf<typeof imapSection>;
