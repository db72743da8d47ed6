// THREAD and UID THREAD (RFC 5256): SEARCH's matches threaded by ORDEREDSUBJECT or
// REFERENCES (threading.ts), answered `* THREAD` with sequence numbers or UIDs. The facts
// per message come from sort-keys.ts (kept by body, read from the store's rows).
import type { MessageView } from '../../mailbox/imap-messages.js';
import type { MessageReader } from '../fetch-items.js';
import { countSearchKeys, searchFolder, type SearchMatch } from '../search-matcher.js';
import { sortKeysOf } from '../sort-keys.js';
import { warmFolderKeys } from '../sorting.js';
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
      const fact = await threadFacts(reader, match, message, cmd.uid ? match.uid : match.seq, withReferences);
      if (fact !== null) facts.push(fact);
    }
    const threads = withReferences ? referenceThreads(facts) : orderedSubjectThreads(facts);
    await ctx.send({ type: 'thread', threads });
    return ok(`${cmd.uid ? 'UID THREAD' : 'THREAD'} completed`);
  },
};

/** A body gone meanwhile (expunged by another session) is left out. */
async function threadFacts(
  reader: MessageReader, match: SearchMatch, message: MessageView, id: number, withReferences: boolean,
): Promise<ThreadMessage | null> {
  try {
    const keys = await sortKeysOf(reader, message.blob);
    let references: string[] = [];
    if (withReferences) {
      // RFC 5256: without References, the first In-Reply-To id stands in.
      references = keys.references.length === 0 && keys.inReplyTo !== null ? [keys.inReplyTo] : keys.references;
    }
    return {
      id, seq: match.seq, date: keys.sentMs ?? message.internalDate, subject: keys.subject,
      replyOrForward: keys.replyOrForward, messageId: keys.messageId, references,
    };
  } catch {
    return null;
  }
}
