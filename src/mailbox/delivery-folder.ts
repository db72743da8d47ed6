// The folder a plugin's beforeDelivery verdict files a delivery into. A folder that
// does not exist yet is created in memory here, and written by the delivery's own
// batch (its folder record and the account's next folder id go with the message);
// a name that cannot be a folder, a missing parent or a full folder list files into
// INBOX instead, so a plugin's wish never loses mail.
import {
  INBOX, MAX_FOLDERS, ancestorNames, canonicalFolderName, folderNameProblem, newFolder, type FolderRecord,
} from '../store/mailbox-store.js';
import { folderByName, type MailboxState } from './state.js';

export function deliveryFolder(state: MailboxState, wanted: string): FolderRecord {
  const name = canonicalFolderName(wanted);
  const inbox = folderByName(state, INBOX);
  if (!inbox) throw new Error(`mailbox ${state.account.mailboxId} has no INBOX`);
  const existing = folderByName(state, name);
  if (existing) return existing;
  const parentMissing = ancestorNames(name).some((parent) => !folderByName(state, parent));
  if (folderNameProblem(name) || parentMissing || state.folders.size >= MAX_FOLDERS) return inbox;
  const folder = newFolder(state.account.nextFolderId, name, null);
  state.account.nextFolderId += 1;
  state.folders.set(folder.id, folder);
  return folder;
}
