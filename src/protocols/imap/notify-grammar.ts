// NOTIFY's arguments (RFC 5465 §8): NONE, or SET [STATUS] with event groups, each a
// mailbox filter (SELECTED, SELECTED-DELAYED, INBOXES, PERSONAL, SUBSCRIBED, SUBTREE
// mailboxes, MAILBOXES mailboxes) and its events (or NONE). Event names are kept as
// written in the RFC's case; which are supported is the command's business.
import { readMailbox, type ArgumentContext } from './arguments.js';
import { CommandSyntaxError, type TokenReader } from './tokens.js';
import type { NotifyCommand, NotifyEventGroup, NotifyFilter } from './types.js';

const EVENTS = new Map(['MessageNew', 'MessageExpunge', 'FlagChange', 'AnnotationChange', 'MailboxName', 'SubscriptionChange',
  'MailboxMetadataChange', 'ServerMetadataChange'].map((name) => [name.toUpperCase(), name]));

export function readNotifyArguments(reader: TokenReader, tag: string, context: ArgumentContext): NotifyCommand {
  reader.space();
  const verb = reader.readKeyword('SET or NONE');
  if (verb === 'NONE') {
    reader.expectEnd();
    return { tag, name: 'NOTIFY', groups: null, status: false };
  }
  if (verb !== 'SET') throw new CommandSyntaxError('Expected SET or NONE');
  reader.space();
  let status = false;
  if (reader.peekAtom().toUpperCase() === 'STATUS') {
    reader.readKeyword();
    reader.space();
    status = true;
  }
  const groups: NotifyEventGroup[] = [readGroup(reader, context)];
  while (reader.spaceFollows()) groups.push(readGroup(reader, context));
  reader.expectEnd();
  return { tag, name: 'NOTIFY', groups, status };
}

function readGroup(reader: TokenReader, context: ArgumentContext): NotifyEventGroup {
  reader.expect('(');
  const filter = readFilter(reader, context);
  reader.space();
  const events = readEvents(reader);
  reader.expect(')');
  return { filter, events };
}

function readFilter(reader: TokenReader, context: ArgumentContext): NotifyFilter {
  const kind = reader.readKeyword('a mailbox filter');
  switch (kind) {
    case 'SELECTED':
    case 'SELECTED-DELAYED':
    case 'INBOXES':
    case 'PERSONAL':
    case 'SUBSCRIBED':
      return { kind };
    case 'SUBTREE':
    case 'MAILBOXES': {
      reader.space();
      const mailboxes = reader.peekChar() === '(' ? reader.readList(() => readMailbox(reader, context), false) : [readMailbox(reader, context)];
      return { kind, mailboxes };
    }
    default:
      throw new CommandSyntaxError(`Unknown mailbox filter ${kind}`);
  }
}

/** `NONE`, or `(` event *(SP event) `)`. MessageNew's FETCH attributes are not supported (BAD). */
function readEvents(reader: TokenReader): string[] {
  if (reader.peekChar() !== '(') {
    if (reader.readKeyword('NONE or an event list') !== 'NONE') throw new CommandSyntaxError('Expected NONE or an event list');
    return [];
  }
  return reader.readList(() => {
    const word = reader.readKeyword('an event');
    const name = EVENTS.get(word);
    if (name === undefined) throw new CommandSyntaxError(`Unknown event ${word}`);
    return name;
  }, false);
}
