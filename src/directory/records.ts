// Directory records and the change feed's entries: the types every process shares.
export interface DomainRecord {
  name: string;
  created: number;
}

export interface UserRecord {
  address: string;
  passwordHash: string;
  /** Bytes; 0 = unlimited. */
  quota: number;
  /** Stable id of the user's mailbox (all folders); survives password changes. */
  mailboxId: string;
  created: number;
  /** Set by `ternmail user disable`: no login (mail is still accepted and delivered). */
  disabled?: boolean;
  /** Last successful login, written at most once an hour (milliseconds since the epoch). */
  lastLogin?: number;
  /**
   * Set by the re-hash of an imported password at the configured cost: the hash it
   * replaced (same password). A node that had checked the password against that one
   * keeps its success for the new hash instead of paying scrypt again. A password
   * change removes it.
   */
  upgradedFrom?: string;
}

export interface AliasRecord {
  address: string; // "user@domain" or "@domain" for a catch-all
  targets: string[];
}

export interface RouteRecord {
  domain: string;
  host: string;
  port: number;
}

/** Which store node holds a mailbox (set by the router in a multi-process deployment). */
export interface PlacementRecord {
  mailboxId: string;
  node: number;
}

/**
 * The reverse index of IMAP ACLs ("who shares with me"): `owner` has at least one folder
 * whose ACL names `grantee` (an address, or `anyone@DOMAIN` for the `anyone` entries of
 * that domain's owners). Key: shareKey(grantee, owner). The rights themselves stay with
 * the owner's folders; this only says whose mailboxes a user's LIST should look at.
 */
export interface ShareRecord {
  grantee: string;
  owner: string;
}

export function shareKey(grantee: string, owner: string): string {
  return `${grantee} ${owner}`;
}

/** The grantee under which an owner's `anyone` entries are indexed: everyone of the owner's domain. */
export function anyoneOf(domain: string): string {
  return `anyone@${domain}`;
}

export type DirectoryEntry =
  | { kind: 'domain'; key: string; value: DomainRecord | null }
  | { kind: 'user'; key: string; value: UserRecord | null }
  | { kind: 'alias'; key: string; value: AliasRecord | null }
  | { kind: 'route'; key: string; value: RouteRecord | null }
  | { kind: 'placement'; key: string; value: PlacementRecord | null }
  | { kind: 'share'; key: string; value: ShareRecord | null };

/** One numbered change of the directory's log: value null = removed. */
export type DirectoryChange = DirectoryEntry & { seq: number };

export type Recipient =
  | { kind: 'local'; address: string; user: UserRecord }
  | { kind: 'remote'; address: string; domain: string };

export type Resolution =
  | { ok: true; recipients: Recipient[] }
  | { ok: false; reason: 'unknown-user' | 'not-local' | 'alias-loop' | 'invalid-address' };

export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1).toLowerCase() : '';
}

const addressPattern = /^[^\s@<>(),;:\\"[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;

export function isValidAddress(address: string): boolean {
  return address.length <= 254 && addressPattern.test(address);
}

export function isValidDomain(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i.test(name);
}
