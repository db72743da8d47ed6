// The mailbox actor's ACL request: SETACL and DELETEACL change one identifier's entry in
// a folder's ACL (stored in the folder record, synced before the reply). The answer
// says whether the mailbox still names that identifier anywhere, which the caller
// needs to keep the directory's "who shares with me" index current. Reading an ACL
// needs no request of its own: folder replies carry it (FolderInfo.acl).
import { canonicalFolderName } from '../store/mailbox-store.js';
import { dispatch, failure } from '../core/supervision.js';
import { folderByName, type MailboxDeps, type MailboxState } from './state.js';
import type { MailboxImapRequest } from './imap-messages.js';

type AclSet = Extract<MailboxImapRequest, { type: 'acl-set' }>;

/** Entries one folder may hold: an ACL is a short list of people, not a directory. */
export const MAX_ACL_ENTRIES = 200;

export async function setAcl(state: MailboxState, msg: AclSet, deps: MailboxDeps): Promise<void> {
  const folder = folderByName(state, canonicalFolderName(msg.name));
  if (!folder) return dispatch(msg.replyTo, failure(`no folder named ${msg.name}`, false, 'NONEXISTENT'));
  const acl = { ...(folder.acl ?? {}) };
  if (msg.rights === null || msg.rights === '') delete acl[msg.identifier];
  else acl[msg.identifier] = msg.rights;
  if (Object.keys(acl).length > MAX_ACL_ENTRIES) return dispatch(msg.replyTo, failure(`at most ${MAX_ACL_ENTRIES} entries per folder`, false, 'LIMIT'));
  const before = folder.acl;
  if (Object.keys(acl).length > 0) folder.acl = acl;
  else delete folder.acl;
  try {
    await deps.db.commit([deps.mailboxes.folderOp(state.account.mailboxId, folder)]);
  } catch (err) {
    if (before) folder.acl = before;
    else delete folder.acl;
    throw err;
  }
  deps.log.info({ mailbox: state.account.mailboxId, folder: folder.name, identifier: msg.identifier, rights: msg.rights ?? '' }, 'acl changed');
  const stillNamed = [...state.folders.values()].some((f) => f.acl !== undefined && Object.hasOwn(f.acl, msg.identifier));
  dispatch(msg.replyTo, { ok: true, acl, stillNamed });
}
