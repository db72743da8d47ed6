// LMTP's per-recipient answer after DATA (RFC 2033 section 4.2): once the size of the
// message is known, a recipient whose mailbox it would take over quota is refused on
// its own with 552 5.2.2, as Dovecot's LMTP does, and the MTA bounces only that one;
// the others are queued in one synced write and get 250.
import type { Recipient } from '../directory/records.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { MailboxStatsReply } from '../mailbox/messages.js';
import { exceedsQuota } from '../mailbox/quota.js';
import { smtpError } from '../smtp/session.js';

/** The recipients (as given at RCPT) every one of whose mailboxes the message would take over quota. */
export function overQuotaAfterData(mailboxes: MailboxRegistry) {
  const tooFull = async (target: Recipient, size: number): Promise<boolean> => {
    if (target.kind !== 'local' || target.user.quota <= 0) return false;
    const usage = await mailboxes.ask<MailboxStatsReply>(target.user.mailboxId, (replyTo) => ({ type: 'stats', replyTo }));
    return usage.ok && exceedsQuota(usage.bytes, size, target.user.quota);
  };
  return async (accepted: ReadonlyMap<string, Recipient[]>, size: number): Promise<Map<string, Error>> => {
    const refused = new Map<string, Error>();
    for (const [given, targets] of accepted) {
      const full = await Promise.all(targets.map((t) => tooFull(t, size)));
      if (targets.length > 0 && full.every(Boolean)) refused.set(given, smtpError(552, `5.2.2 <${given}>: Mailbox full: message of ${size} bytes over quota`));
    }
    return refused;
  };
}
