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

export type DirectoryEntry =
  | { kind: 'domain'; key: string; value: DomainRecord | null }
  | { kind: 'user'; key: string; value: UserRecord | null }
  | { kind: 'alias'; key: string; value: AliasRecord | null }
  | { kind: 'route'; key: string; value: RouteRecord | null }
  | { kind: 'placement'; key: string; value: PlacementRecord | null };

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
