// mailboxEvent for plugins: one observer call per committed change of a mailbox
// (append, expunge, flags, folder create/delete/rename). Call sites check
// `deps.hooks?.on.mailboxEvent` first, so without such a plugin nothing is built.
import type { MailboxEventEvent } from '../plugins/contract/events.js';
import type { MailboxDeps, MailboxState } from './state.js';

export function tellPlugins(deps: MailboxDeps, state: MailboxState, event: Omit<MailboxEventEvent, 'mailbox'>): void {
  deps.hooks?.observe('mailboxEvent', { mailbox: state.account.mailboxId, ...event });
}
