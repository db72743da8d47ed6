// The IMAP command table: adding a command is adding its file and one line here.
import type { ImapCommandName } from '../../protocols/imap/types.js';
import type { CommandSpec } from './command.js';
import { append } from './append.js';
import { deleteacl, getacl, listrights, myrights, setacl } from './acl.js';
import { authenticate } from './authenticate.js';
import { cancelupdate } from './cancelupdate.js';
import { capability } from './capability.js';
import { check } from './check.js';
import { close } from './close.js';
import { compress } from './compress.js';
import { copy } from './copy.js';
import { create } from './create.js';
import { deleteFolder } from './delete.js';
import { enable } from './enable.js';
import { examine } from './examine.js';
import { expunge } from './expunge.js';
import { fetch } from './fetch.js';
import { getquota } from './getquota.js';
import { getquotaroot } from './getquotaroot.js';
import { id } from './id.js';
import { idle } from './idle.js';
import { list } from './list.js';
import { login } from './login.js';
import { getmetadata, setmetadata } from './metadata.js';
import { logout } from './logout.js';
import { lsub } from './lsub.js';
import { move } from './move.js';
import { namespace } from './namespace.js';
import { noop } from './noop.js';
import { notify } from './notify.js';
import { rename } from './rename.js';
import { search } from './search.js';
import { select } from './select.js';
import { setquota } from './setquota.js';
import { sort } from './sort.js';
import { starttls } from './starttls.js';
import { status } from './status.js';
import { store } from './store.js';
import { subscribe } from './subscribe.js';
import { thread } from './thread.js';
import { unselect } from './unselect.js';
import { unsubscribe } from './unsubscribe.js';

const ALL: CommandSpec[] = [
  append, authenticate, cancelupdate, capability, check, close, compress, copy, create, deleteFolder, enable, examine, expunge, fetch,
  getmetadata, getquota, getquotaroot, id, idle, list, login, logout, lsub, move, namespace, noop, notify, rename, search, select,
  setmetadata, setquota, sort, starttls, status, store, subscribe, thread, unselect, unsubscribe,
  setacl, deleteacl, getacl, listrights, myrights,
];

export const COMMANDS: ReadonlyMap<ImapCommandName, CommandSpec> = new Map(ALL.map((spec) => [spec.name, spec]));
