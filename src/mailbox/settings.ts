// The `mailbox` section: the quota a new mailbox gets and how long an idle mailbox
// actor stays in memory.
import { defineSection, type SettingsOf } from '../config/config.js';

export const mailboxSection = defineSection({
  name: 'mailbox',
  about: 'mailboxes: default quota and idle actors',
  settings: {
    defaultQuota: { kind: 'nonneg', default: 0, legacy: 'defaultQuota', meta: 'BYTES', describe: 'quota of a user added without one; 0 = unlimited' },
    idleMs: { kind: 'posint', default: 60_000, legacy: 'mailboxIdleMs', meta: 'MS', describe: 'milliseconds an unused mailbox actor stays in memory' },
  },
});

export type MailboxSettings = SettingsOf<typeof mailboxSection>;
