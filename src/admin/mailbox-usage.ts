// The dashboard's "largest mailboxes": every account record read once (messages and
// bytes per mailbox), joined with the directory for addresses and quotas. In a
// cluster each worker answers for the mailboxes it holds and the primary merges.
import type { Directory } from '../directory/directory.js';
import type { MailboxStore } from '../store/mailbox-store.js';
import type { UsageRow } from './dashboard-data.js';

const SHOWN = 20;

export async function largestMailboxes(directory: Directory, store: MailboxStore): Promise<UsageRow[]> {
  const byMailbox = new Map<string, { messages: number; bytes: number }>();
  for await (const account of store.accounts()) byMailbox.set(account.mailboxId, { messages: account.messages, bytes: account.bytes });
  const rows: UsageRow[] = [];
  for (const user of directory.cache.users.values()) {
    const usage = byMailbox.get(user.mailboxId) ?? { messages: 0, bytes: 0 };
    rows.push({ address: user.address, messages: usage.messages, bytes: usage.bytes, quota: user.quota });
  }
  return rows.sort((a, b) => b.bytes - a.bytes || a.address.localeCompare(b.address)).slice(0, SHOWN);
}

/**
 * A cluster's largest mailboxes from each worker's own list: a mailbox is held by one
 * worker, elsewhere it shows as empty, so each address keeps its largest row.
 */
export function mergeLargest(perWorker: UsageRow[][]): UsageRow[] {
  const byAddress = new Map<string, UsageRow>();
  for (const row of perWorker.flat()) {
    const seen = byAddress.get(row.address);
    if (!seen || row.bytes > seen.bytes) byAddress.set(row.address, row);
  }
  return [...byAddress.values()].sort((a, b) => b.bytes - a.bytes || a.address.localeCompare(b.address)).slice(0, SHOWN);
}
