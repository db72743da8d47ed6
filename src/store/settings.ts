// The `store` section: what the store accepts — the largest message (SMTP SIZE and
// IMAP APPEND alike), the free disk it keeps, and the hostile-MIME limits past which a
// body is stored whole, its structure one opaque part.
import { defineSection, type SettingsOf } from '../config/config.js';

export const storeSection = defineSection({
  name: 'store',
  about: 'message storage: size limits, free disk, MIME analysis limits',
  settings: {
    maxMessageSize: { kind: 'posint', default: 50 * 1024 * 1024, legacy: 'maxMessageSize', describe: 'largest message in bytes, by SMTP or IMAP APPEND' },
    minFreeSpace: { kind: 'size', default: 256 * 1024 * 1024, legacy: 'minFreeSpace', describe: 'free disk below which new mail is refused (452 4.3.1 at MAIL FROM); 0 = no check' },
    mimeMaxParts: { kind: 'posint', default: 1000, legacy: 'mimeMaxParts', describe: 'MIME parts analysed per message; past it one opaque part' },
    mimeMaxDepth: { kind: 'posint', default: 32, legacy: 'mimeMaxDepth', describe: 'MIME nesting analysed' },
    mimeMaxHeaders: { kind: 'posint', default: 1000, legacy: 'mimeMaxHeaders', describe: 'header fields analysed per part' },
    writeBuffer: { kind: 'size', default: 64 * 1024 * 1024, legacy: 'dbWriteBuffer', describe: 'LevelDB memtable of the store: larger means less compaction work per message, more memory' },
  },
});

export type StoreSettings = SettingsOf<typeof storeSection>;
