// The `outbound` section: delivery to remote domains — relay host, connections per
// destination, timeouts and when a whole destination is backed off.
import { defineSection, type SettingsOf } from '../config/config.js';

export const outboundSection = defineSection({
  name: 'outbound',
  about: 'delivery to remote domains',
  settings: {
    smarthost: { kind: 'optstring', default: '', legacy: 'smarthost', meta: 'HOST[:PORT]', describe: 'relay every remote domain through this host unless a static route matches' },
    port: { kind: 'port', default: 25, legacy: 'outboundPort', describe: 'port used for MX hosts' },
    concurrency: { kind: 'posint', default: 5, legacy: 'outboundConcurrency', describe: 'connections at once per destination domain' },
    messagesPerConnection: { kind: 'posint', default: 100, legacy: 'messagesPerConnection', describe: 'messages sent over one connection before it is closed' },
    verifyCertificates: { kind: 'bool', default: false, legacy: 'verifyCertificates', describe: 'verify the peer certificate after opportunistic STARTTLS' },
    timeout: { kind: 'posint', default: 60, legacy: 'outboundTimeout', meta: 'SECS', describe: 'seconds an outbound connection may wait on the peer' },
    domainBackoffAfter: { kind: 'posint', default: 3, legacy: 'domainBackoffAfter', describe: 'consecutive connection failures after which a whole destination is backed off' },
  },
});

export type OutboundSettings = SettingsOf<typeof outboundSection>;
