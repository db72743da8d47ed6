// THREAD and UID THREAD (RFC 5256): SEARCH's matches threaded by ORDEREDSUBJECT or
// REFERENCES (threading.ts), answered `* THREAD` with sequence numbers or UIDs. The facts
// per message come from sort-keys.ts (kept by body, read from the store's rows).
import type { MessageView } from '../../mailbox/imap-messages.js';
import { countSearchKeys, searchFolder, type SearchMatch } from '../search-matcher.js';
import { knownSortKeys, type SortKeys } from '../sort-keys.js';
import { keysOrNull, warmFolderKeys } from '../sorting.js';
import { orderedSubjectThreads, referenceThreads, type ThreadMessage } from '../threading.js';
import { bad, commandOf, ok, selectedFolder, SELECTED, type CommandSpec } from './command.js';

export const thread: CommandSpec = {
  name: 'THREAD',
  states: SELECTED,
  needsSelected: true,
  allowExpungeDuring: 'uid',
  async handle(ctx, command) {
    const cmd = commandOf(command, 'THREAD');
    const folder = selectedFolder(ctx);
    const limit = ctx.deps.limits.maxSearchKeys;
    if (countSearchKeys(cmd.search) > limit) return bad(`Too many search keys (limit ${limit})`, { code: 'LIMIT' });
    const reader = ctx.mailbox().reader;
    const matches = await searchFolder(folder, cmd.search, reader);
    const withReferences = cmd.algorithm === 'REFERENCES';
    await warmFolderKeys(reader, folder);
    const facts: ThreadMessage[] = [];
    for (const match of matches) {
      const message = folder.messages.get(match.uid);
      if (message === undefined) continue;
      // A body gone meanwhile (expunged by another session) is left out.
      const keys = knownSortKeys(message.blob) ?? await keysOrNull(reader, message.blob);
      if (keys !== null) facts.push(threadFact(match, message, keys, cmd.uid ? match.uid : match.seq, withReferences));
    }
    const threads = withReferences ? referenceThreads(facts) : orderedSubjectThreads(facts);
    await ctx.send({ type: 'thread', threads });
    return ok(`${cmd.uid ? 'UID THREAD' : 'THREAD'} completed`);
  },
};

function threadFact(match: SearchMatch, message: MessageView, keys: SortKeys, id: number, withReferences: boolean): ThreadMessage {
  let references: string[] = [];
  if (withReferences) {
    // RFC 5256: without References, the first In-Reply-To id stands in.
    references = keys.references.length === 0 && keys.inReplyTo !== null ? [keys.inReplyTo] : keys.references;
  }
  return {
    id, seq: match.seq, date: keys.sentMs ?? message.internalDate, subject: keys.subject,
    replyOrForward: keys.replyOrForward, messageId: keys.messageId, references,
  };
}
