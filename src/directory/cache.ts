// The local replicated directory cache: in-memory maps kept current by applying
// the directory's numbered change feed. All lookups on a warm cache stay in-process.
import {
  domainOf, normalizeAddress,
  type AliasRecord, type DirectoryChange, type DirectoryEntry, type DomainRecord, type Recipient, type Resolution,
  type PlacementRecord, type RouteRecord, type ShareRecord, type UserRecord,
} from './records.js';

const MAX_ALIAS_DEPTH = 8;

export class DirectoryCache {
  readonly domains = new Map<string, DomainRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly aliases = new Map<string, AliasRecord>();
  readonly routes = new Map<string, RouteRecord>();
  readonly placements = new Map<string, PlacementRecord>();
  /** IMAP ACL reverse index by shareKey (records.ts), and grantee → owners sharing with them. */
  readonly shares = new Map<string, ShareRecord>();
  private readonly sharersByGrantee = new Map<string, Set<string>>();
  private readonly granteesByOwner = new Map<string, Set<string>>();
  /** Sequence number of the last change applied. */
  appliedSeq = 0;
  private readonly listeners: Array<(change: DirectoryChange) => void> = [];
  /** Mailboxes placed on each node, kept as placements change. */
  private readonly perNode = new Map<number, number>();

  apply(change: DirectoryChange): void {
    if (change.seq <= this.appliedSeq) return;
    if (change.kind === 'placement') this.countPlacement(this.placements.get(change.key), change.value);
    if (change.kind === 'share') this.indexShare(this.shares.get(change.key), change.value);
    const table = this.table(change.kind);
    if (change.value === null) table.delete(change.key);
    else table.set(change.key, change.value);
    this.appliedSeq = change.seq;
    for (const listener of this.listeners) listener(change);
  }

  /** Fills the cache from a snapshot (every current record) taken at sequence `seq`. */
  load(entries: DirectoryEntry[], seq: number): void {
    for (const entry of entries) {
      if (!entry.value) continue;
      if (entry.kind === 'placement') this.countPlacement(this.placements.get(entry.key), entry.value);
      if (entry.kind === 'share') this.indexShare(this.shares.get(entry.key), entry.value);
      this.table(entry.kind).set(entry.key, entry.value);
    }
    this.appliedSeq = seq;
  }

  /** The node holding a mailbox, if it is placed. */
  nodeOf(mailboxId: string): number | undefined {
    return this.placements.get(mailboxId)?.node;
  }

  /** The node holding a user's mailbox, if the user exists and the mailbox is placed. */
  nodeOfUser(address: string): number | undefined {
    const user = this.user(address);
    return user && this.nodeOf(user.mailboxId);
  }

  /** How many mailboxes are placed on each node. */
  mailboxesPerNode(): ReadonlyMap<number, number> {
    return this.perNode;
  }

  private countPlacement(before: PlacementRecord | undefined, after: PlacementRecord | null): void {
    if (before) this.perNode.set(before.node, (this.perNode.get(before.node) ?? 1) - 1);
    if (after) this.perNode.set(after.node, (this.perNode.get(after.node) ?? 0) + 1);
  }

  /** Owners whose folders' ACLs name `grantee` (an address or `anyone@DOMAIN`). */
  sharersOf(grantee: string): string[] {
    return [...(this.sharersByGrantee.get(grantee) ?? [])];
  }

  /**
   * The address a user given rights by `owner` has now, from the entry's address then and
   * the mailbox id it was given to (the same unless the user was renamed since).
   */
  granteeAddress(owner: string, identifier: string, mailboxId: string): string | undefined {
    if (this.user(identifier)?.mailboxId === mailboxId) return identifier;
    for (const grantee of this.granteesByOwner.get(owner) ?? []) {
      if (this.user(grantee)?.mailboxId === mailboxId) return grantee;
    }
    return undefined;
  }

  private indexShare(before: ShareRecord | undefined, after: ShareRecord | null): void {
    if (before) {
      unindex(this.sharersByGrantee, before.grantee, before.owner);
      unindex(this.granteesByOwner, before.owner, before.grantee);
    }
    if (after) {
      index(this.sharersByGrantee, after.grantee, after.owner);
      index(this.granteesByOwner, after.owner, after.grantee);
    }
  }

  onChange(listener: (change: DirectoryChange) => void): void {
    this.listeners.push(listener);
  }

  private table(kind: DirectoryChange['kind']): Map<string, unknown> {
    switch (kind) {
      case 'domain': return this.domains;
      case 'user': return this.users;
      case 'alias': return this.aliases;
      case 'route': return this.routes;
      case 'placement': return this.placements;
      case 'share': return this.shares;
    }
  }

  isLocalDomain(domain: string): boolean {
    return this.domains.has(domain.toLowerCase());
  }

  user(address: string): UserRecord | undefined {
    return this.users.get(normalizeAddress(address));
  }

  /** Expands aliases (catch-all included) into final local or remote recipients. */
  resolve(address: string): Resolution {
    const normalized = normalizeAddress(address);
    const out = new Map<string, Recipient>();
    const outcome = this.expand(normalized, out, new Set(), 0);
    if (outcome !== 'ok') return { ok: false, reason: outcome };
    return { ok: true, recipients: [...out.values()] };
  }

  private expand(
    address: string, out: Map<string, Recipient>, visiting: Set<string>, depth: number,
  ): 'ok' | 'unknown-user' | 'not-local' | 'alias-loop' {
    if (depth > MAX_ALIAS_DEPTH) return 'alias-loop';
    const domain = domainOf(address);
    if (!this.isLocalDomain(domain)) {
      if (depth === 0) return 'not-local';
      out.set(address, { kind: 'remote', address, domain });
      return 'ok';
    }
    const alias = visiting.has(address) ? undefined : this.aliases.get(address);
    if (alias) return this.expandTargets(address, alias.targets, out, visiting, depth);
    const user = this.users.get(address);
    if (user) {
      out.set(address, { kind: 'local', address, user });
      return 'ok';
    }
    const catchAll = this.aliases.get('@' + domain);
    if (catchAll && !visiting.has('@' + domain)) {
      return this.expandTargets('@' + domain, catchAll.targets, out, visiting, depth);
    }
    return 'unknown-user';
  }

  private expandTargets(
    key: string, targets: string[], out: Map<string, Recipient>, visiting: Set<string>, depth: number,
  ): 'ok' | 'unknown-user' | 'not-local' | 'alias-loop' {
    visiting.add(key);
    let delivered = 0;
    for (const target of targets) {
      const result = this.expand(normalizeAddress(target), out, visiting, depth + 1);
      if (result === 'alias-loop') return result;
      if (result === 'ok') delivered += 1;
    }
    visiting.delete(key);
    return delivered > 0 ? 'ok' : 'unknown-user';
  }
}

function index(sets: Map<string, Set<string>>, key: string, value: string): void {
  const set = sets.get(key) ?? new Set<string>();
  set.add(value);
  sets.set(key, set);
}

function unindex(sets: Map<string, Set<string>>, key: string, value: string): void {
  const set = sets.get(key);
  set?.delete(value);
  if (set?.size === 0) sets.delete(key);
}
