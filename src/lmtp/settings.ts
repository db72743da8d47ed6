// The `lmtp` section: the LMTP listener (RFC 2033), off by default. LMTP has no
// authentication, so it listens on loopback unless told otherwise, apart from `net.bind`.
import { defineSection, type SettingsOf } from '../config/config.js';

export const lmtpSection = defineSection({
  name: 'lmtp',
  about: 'the LMTP listener (RFC 2033) for an existing MTA to deliver into the store',
  settings: {
    port: { kind: 'port', default: 0, legacy: 'lmtpPort', describe: 'LMTP port; 0 = off' },
    bind: { kind: 'string', default: '127.0.0.1', legacy: 'lmtpBind', meta: 'ADDR', describe: 'LMTP address, apart from --bind: LMTP has no authentication' },
  },
});

export type LmtpSettings = SettingsOf<typeof lmtpSection>;
