// The rights model of IMAP ACL (RFC 4314), kept with the owner's folders: each folder
// record may carry `acl`, identifier → rights string. Identifiers are full addresses of
// users of the owner's domain, or `anyone` (sharing never crosses a domain). The owner
// always holds every right on their own folders; nobody else holds any right that no
// entry gives. Pure functions: no I/O, used by the mailbox actor (storing) and by IMAP
// (checking each command against the folder's current ACL).

/** Every right this server knows, in RFC 4314 order (RIGHTS=texk: t, e, x, k are separate). */
export const ALL_RIGHTS = 'lrswipkxtea';

/**
 * An ACL: identifier (`anyone` or a lower-case address) → rights in ALL_RIGHTS order,
 * for an address followed by `:` and the mailbox id of the user it was given to, so a
 * user removed and added again under the same address does not inherit the old rights.
 */
export type Acl = Record<string, string>;

/** The stored value of an entry: the rights, and for a user the mailbox id it belongs to. */
export function aclEntry(rights: string, mailboxId?: string): string {
  return mailboxId === undefined ? rights : `${rights}:${mailboxId}`;
}

/** The rights part of a stored entry. */
export function entryRights(value: string): string {
  const colon = value.indexOf(':');
  return colon < 0 ? value : value.slice(0, colon);
}

/** The mailbox id a stored entry was given to, if it names one. */
export function entryMailbox(value: string): string | undefined {
  const colon = value.indexOf(':');
  return colon < 0 ? undefined : value.slice(colon + 1);
}

/**
 * The ACL as a client sees it: identifier → rights. An entry given to a user who has
 * been renamed since shows under the user's address now (`currentAddress`, from the
 * directory); two entries that end up under one address show as one.
 */
export function visibleAcl(acl: Acl | undefined, currentAddress?: (identifier: string, mailboxId: string) => string | undefined): Acl {
  const out: Acl = {};
  for (const [identifier, value] of Object.entries(acl ?? {})) {
    const mailboxId = entryMailbox(value);
    const shown = (mailboxId === undefined ? undefined : currentAddress?.(identifier, mailboxId)) ?? identifier;
    out[shown] = normalizeRights((out[shown] ?? '') + entryRights(value));
  }
  return out;
}

export const ANYONE = 'anyone';

/** The rights in canonical order without duplicates. */
export function normalizeRights(rights: string): string {
  return [...ALL_RIGHTS].filter((right) => rights.includes(right)).join('');
}

export type RightsParse = { ok: true; rights: string } | { ok: false; error: string };

/**
 * The rights of a SETACL (modifier already stripped). The obsolete `c` grants k and x,
 * `d` grants e, t and x (RFC 4314 §2.1.1); an unknown letter is an error (BAD).
 */
export function parseRights(text: string): RightsParse {
  let out = '';
  for (const letter of text) {
    if (letter === 'c') out += 'kx';
    else if (letter === 'd') out += 'etx';
    else if (ALL_RIGHTS.includes(letter)) out += letter;
    else if (/[0-9]/.test(letter)) continue; // implementation-defined rights 0-9: none here, ignored
    else return { ok: false, error: `unknown right "${letter}"` };
  }
  return { ok: true, rights: normalizeRights(out) };
}

/** SETACL's `+rights` adds, `-rights` removes, plain rights replace (RFC 4314 §3.1). */
export function modifiedRights(current: string, modifier: '+' | '-' | '', rights: string): string {
  if (modifier === '+') return normalizeRights(current + rights);
  if (modifier === '-') return [...current].filter((right) => !rights.includes(right)).join('');
  return rights;
}

/**
 * Rights as reported (GETACL, MYRIGHTS): with `c` when k is held and `d` when e or t is
 * held, so clients that know only RFC 2086 still see them (RFC 4314 §2.1.1).
 */
export function reportedRights(rights: string): string {
  let out = rights;
  if (rights.includes('k')) out += 'c';
  if (rights.includes('e') || rights.includes('t')) out += 'd';
  return out;
}

/**
 * The rights `user` (with mailbox `mailboxId`) holds on a folder of `owner` with this ACL:
 * the entries given to this very user's mailbox, plus `anyone`'s.
 */
export function rightsOf(acl: Acl | undefined, owner: string, user: string, mailboxId: string): string {
  if (user === owner) return ALL_RIGHTS;
  if (acl === undefined) return '';
  let mine = entryRights(acl[ANYONE] ?? '');
  for (const [identifier, value] of Object.entries(acl)) {
    if (identifier === ANYONE) continue;
    const boundTo = entryMailbox(value);
    // An entry given to this very mailbox holds under whatever address the user has now
    // (a `user rename` keeps the mailbox); an entry without a mailbox id holds by address.
    if (boundTo === mailboxId || (boundTo === undefined && identifier === user)) mine += entryRights(value);
  }
  return normalizeRights(mine);
}

export function has(rights: string, wanted: string): boolean {
  return [...wanted].every((right) => rights.includes(right));
}

/** Whether the ACL has an entry naming `identifier`. */
export function names(acl: Acl | undefined, identifier: string): boolean {
  return acl !== undefined && Object.hasOwn(acl, identifier);
}

/** Which flag changes the rights allow: \Seen needs s, \Deleted needs t, every other flag w. */
export interface FlagRights {
  seen: boolean;
  deleted: boolean;
  others: boolean;
}

export function flagRights(rights: string): FlagRights {
  return { seen: rights.includes('s'), deleted: rights.includes('t'), others: rights.includes('w') };
}

export function allFlagRights(allowed: FlagRights): boolean {
  return allowed.seen && allowed.deleted && allowed.others;
}

function category(flag: string, allowed: FlagRights): boolean {
  const lower = flag.toLowerCase();
  if (lower === '\\seen') return allowed.seen;
  if (lower === '\\deleted') return allowed.deleted;
  return allowed.others;
}

/** Flags given with a new message (APPEND, COPY into a shared folder) the rights allow to set. */
export function permittedFlags(flags: readonly string[], allowed: FlagRights): string[] {
  return flags.filter((flag) => category(flag, allowed));
}

/**
 * A message's flags after a change, with the flags the rights do not allow to change
 * kept as they were (a STORE by a user lacking s, t or w: those parts are ignored).
 */
export function restrictFlagChange(before: readonly string[], after: readonly string[], allowed: FlagRights): string[] {
  const kept = before.filter((flag) => !category(flag, allowed));
  const changed = after.filter((flag) => category(flag, allowed));
  return [...kept, ...changed];
}
