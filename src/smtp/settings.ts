// The `smtp` section: the inbound (MX), submission and SMTPS listeners and the limits
// of one SMTP session.
import { defineSection, type SettingsOf } from '../config/config.js';

export const smtpSection = defineSection({
  name: 'smtp',
  about: 'SMTP listeners (MX, submission, SMTPS) and session limits',
  settings: {
    port: { kind: 'port', default: 2525, legacy: 'smtpPort', describe: 'inbound SMTP (MX) port' },
    submissionPort: { kind: 'port', default: 2587, legacy: 'submissionPort', describe: 'submission port, AUTH required' },
    tlsPort: { kind: 'port', default: 0, legacy: 'smtpsPort', describe: 'implicit-TLS submission port (SMTPS); 0 = off; needs net.tls' },
    maxConnections: { kind: 'posint', default: 10_000, legacy: 'smtpMaxConnections', describe: 'open SMTP connections in this process, all addresses together' },
    maxRecipients: { kind: 'posint', default: 1000, legacy: 'maxRecipients', describe: 'recipients of one message' },
    maxLineLength: { kind: 'posint', default: 4096, legacy: 'maxLineLength', describe: 'longest SMTP command line in bytes' },
    maxReceivedHeaders: { kind: 'posint', default: 30, legacy: 'maxReceivedHeaders', describe: 'Received headers past which a message is refused as a forwarding loop' },
    dataTimeout: { kind: 'posint', default: 600, legacy: 'smtpDataTimeout', meta: 'SECS', describe: 'longest SMTP or LMTP DATA in seconds, however slowly it trickles (421 4.4.2 past it)' },
  },
});

export type SmtpSettings = SettingsOf<typeof smtpSection>;
