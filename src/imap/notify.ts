// NOTIFY (RFC 5465) for the folders a session has not selected: which events it supports,
// which folders a filter covers, and what is sent for a change: `* STATUS` for message
// events (MESSAGES, UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ as the events ask), `* LIST`
// for MailboxName (\NonExistent when deleted, OLDNAME when renamed) and for
// SubscriptionChange. The selected folder keeps reporting as without NOTIFY.
import type { FolderCounters, FolderEvent } from '../mailbox/imap-messages.js';
import type { ImapResponse, NotifyEventGroup, NotifyFilter, StatusItem } from '../protocols/imap/types.js';

export const SUPPORTED_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange'];

/** The events of a NOTIFY SET this server does not send, or [] when it can honour all. */
export function unsupportedEvents(groups: NotifyEventGroup[]): string[] {
  return [...new Set(groups.flatMap((g) => g.events).filter((event) => !SUPPORTED_EVENTS.includes(event)))];
}

/** Whether a non-selected-folder filter covers the folder `name`. */
export function covers(filter: NotifyFilter, name: string, subscribed: boolean): boolean {
  switch (filter.kind) {
    case 'SELECTED':
    case 'SELECTED-DELAYED':
      return false;
    case 'INBOXES':
      return name === 'INBOX';
    case 'PERSONAL':
      return true;
    case 'SUBSCRIBED':
      return subscribed;
    case 'SUBTREE':
      return filter.mailboxes.some((root) => name === root || name.startsWith(`${root}/`));
    case 'MAILBOXES':
      return filter.mailboxes.includes(name);
  }
}

/** The first group covering the folder (RFC 5465 §6: the first matching filter wins). */
export function groupFor(groups: NotifyEventGroup[], name: string, subscribed: boolean): NotifyEventGroup | null {
  return groups.find((group) => covers(group.filter, name, subscribed)) ?? null;
}

/** STATUS items the group's message events ask for, in a fixed order. */
export function statusItemsFor(events: string[]): StatusItem[] {
  const items = new Set<StatusItem>();
  if (events.includes('MessageNew')) ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY'].forEach((i) => items.add(i as StatusItem));
  if (events.includes('MessageExpunge')) items.add('MESSAGES');
  if (events.includes('FlagChange')) ['UIDVALIDITY', 'HIGHESTMODSEQ'].forEach((i) => items.add(i as StatusItem));
  const order: StatusItem[] = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'HIGHESTMODSEQ'];
  return order.filter((item) => items.has(item));
}

export function statusResponse(name: string, counters: FolderCounters, items: StatusItem[]): ImapResponse {
  const value = (item: StatusItem): number => {
    switch (item) {
      case 'MESSAGES': return counters.messages;
      case 'UIDNEXT': return counters.uidNext;
      case 'UIDVALIDITY': return counters.uidValidity;
      default: return counters.highestModseq;
    }
  };
  return { type: 'status', mailbox: name, items: items.map((item) => [item, value(item)]) };
}

const EVENT_OF_CHANGE = { new: 'MessageNew', expunge: 'MessageExpunge', flags: 'FlagChange' } as const;

/** What to tell the client of a change in a folder it has not selected, or null. */
export function notificationOf(groups: NotifyEventGroup[], event: FolderEvent): ImapResponse | null {
  if (event.kind === 'status') {
    const group = groupFor(groups, event.folder, event.status.subscribed);
    if (group === null || !group.events.includes(EVENT_OF_CHANGE[event.change])) return null;
    return statusResponse(event.folder, event.status, statusItemsFor(group.events));
  }
  if (event.kind !== 'mailbox') return null;
  const group = groupFor(groups, event.folder, event.subscribed) ?? (event.from !== undefined ? groupFor(groups, event.from, event.subscribed) : null);
  const wanted = event.change === 'subscription' ? 'SubscriptionChange' : 'MailboxName';
  if (group === null || !group.events.includes(wanted)) return null;
  const attributes = event.change === 'deleted' ? ['\\NonExistent'] : event.subscribed ? ['\\Subscribed'] : [];
  return { type: 'list', attributes, delimiter: '/', mailbox: event.folder, ...(event.change === 'renamed' && event.from !== undefined ? { oldName: event.from } : {}) };
}
