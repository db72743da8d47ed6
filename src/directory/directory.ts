// The directory actor: sole writer of domains, users, aliases and routes; every write
// goes to disk with its change-feed entry, then into the local cache. Reads
// (recipient resolution, authentication) are served from that cache in-process.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import { DirectoryCache } from './cache.js';
import { DirectoryStore } from './directory-store.js';
import { hashCost, hashPassword, isPasswordHash, verifyPassword } from './password.js';
import {
  domainOf, isValidAddress, isValidDomain, normalizeAddress, shareKey,
  type AliasRecord, type DirectoryChange, type DirectoryEntry, type DomainRecord, type PlacementRecord, type RouteRecord, type UserRecord,
} from './records.js';
import { ask, dispatch, nobody, type Failure, failure } from '../core/supervision.js';
import { defineActor, LONG_LIVED, spawnActor } from '../core/actor.js';
import { escalate } from '../core/process-policy.js';

export type AdminReply<T = unknown> = { ok: true; value: T } | Failure;

export interface NewUser {
  address: string;
  password?: string;
  passwordHash?: string;
  quota?: number;
}

export type ImportLineResult = { line: number; address: string; status: 'added' } | { line: number; address: string; status: 'skipped'; reason: string };

export type DirectoryRequest =
  | { type: 'add-domain'; name: string; replyTo: Ref<AdminReply<DomainRecord>> }
  | { type: 'remove-domain'; name: string; replyTo: Ref<AdminReply<null>> }
  | { type: 'add-users'; users: NewUser[]; hashCost: number; replyTo: Ref<AdminReply<ImportLineResult[]>> }
  | { type: 'remove-user'; address: string; replyTo: Ref<AdminReply<null>> }
  | { type: 'set-password'; address: string; password: string; replyTo: Ref<AdminReply<null>> }
  /** A login found a hash weaker than the configured cost: re-hash it (skipped while shutting down). */
  | { type: 'upgrade-hash'; address: string; password: string; replyTo: Ref<AdminReply<null>> }
  | { type: 'set-quota'; address: string; quota: number; replyTo: Ref<AdminReply<null>> }
  | { type: 'set-disabled'; address: string; disabled: boolean; replyTo: Ref<AdminReply<null>> }
  /** `keepAlias`: the old address stays as an alias of the new one. */
  | { type: 'rename-user'; address: string; to: string; keepAlias?: boolean; replyTo: Ref<AdminReply<UserRecord>> }
  | { type: 'touch-login'; address: string; at: number; replyTo: Ref<AdminReply<null>> }
  | { type: 'add-alias'; address: string; targets: string[]; replyTo: Ref<AdminReply<AliasRecord>> }
  | { type: 'remove-alias'; address: string; replyTo: Ref<AdminReply<null>> }
  | { type: 'add-route'; domain: string; host: string; port: number; replyTo: Ref<AdminReply<RouteRecord>> }
  | { type: 'remove-route'; domain: string; replyTo: Ref<AdminReply<null>> }
  /** Places a mailbox (first placement wins unless `force`: a completed move). */
  | { type: 'set-placement'; mailboxId: string; node: number; force?: boolean; replyTo: Ref<AdminReply<PlacementRecord>> }
  /** IMAP ACL reverse index: `owner` does (or no longer does) share folders with `grantee`. */
  | { type: 'set-share'; grantee: string; owner: string; shared: boolean; replyTo: Ref<AdminReply<null>> };

/** A directory request as it crosses processes: the reply comes back over the transport. */
export type DirectoryRequestBody = DirectoryRequest extends infer R ? (R extends { replyTo: unknown } ? Omit<R, 'replyTo'> : never) : never;

/** The authoritative directory as a replica reaches it. */
export interface DirectoryAuthority {
  request(message: DirectoryRequestBody): Promise<AdminReply>;
}

export interface DirectoryOptions {
  passwordCost: number;
  defaultQuota: number;
  /** Shortest pause between two hash upgrades (default 100 ms; tests use 0). */
  upgradePauseMs?: number;
}

/** A write the directory refuses (bad input, a conflict): answered as a failure, not a crash. */
export class AdminError extends Error {}

/** Where a directory shared by several machines writes: a KV bucket whose watch feeds the cache. */
export interface SharedDirectoryWriter {
  /** Returns once the local cache has applied the write. */
  write(entries: DirectoryEntry[]): Promise<void>;
}

/** How stale the last login kept in a user's record may be: one directory write per user and hour at most. */
const LAST_LOGIN_RESOLUTION_MS = 3_600_000;

/** Imported hashes waiting for their upgrade at most (a password each, in memory). */
const UPGRADE_QUEUE_MAX = 10_000;

/** The directory as the rest of the process sees it: cached reads, writes through the actor. */
export class Directory {
  readonly cache = new DirectoryCache();
  /**
   * In a cluster of machines: accepts the ticket a peer node's session proxy logs in
   * with (`src/cluster/peer-tickets.ts`) in place of the user's password.
   */
  peerLogin: ((address: string, account: string, password: string) => boolean) | null = null;
  private ref!: Ref<DirectoryRequest>;
  private readonly verified = new Map<string, { passwordHash: string; digest: Buffer }>();
  private readonly pepper = randomBytes(32);

  private authority: DirectoryAuthority | null = null;
  private shared: SharedDirectoryWriter | null = null;
  /** Imported hashes waiting to be re-hashed at the configured cost: address → password. */
  private readonly upgradeQueue = new Map<string, { password: string; digest: Buffer }>();
  /** The one upgrade under way (they run one at a time), or null. */
  private upgrading: { address: string; done: Promise<void> } | null = null;
  /** The pause after an upgrade, before the next one starts. */
  private upgradePause: NodeJS.Timeout | null = null;
  private closing = false;

  /** Checked for unknown users, so that they cost the same scrypt work as a wrong password. */
  private readonly decoyHash: Promise<string>;

  constructor(private readonly store: DirectoryStore | null, private readonly log: Logger, private readonly options: DirectoryOptions) {
    this.decoyHash = hashPassword(randomBytes(18).toString('base64'), options.passwordCost);
    this.decoyHash.catch((err) => log.error({ err }, 'decoy password hash failed'));
  }

  async start(parent: Ref<unknown>): Promise<void> {
    if (!this.store) throw new Error('start() needs the directory store; replicas use startReplica()');
    await this.store.open();
    const snapshot = await this.store.snapshot();
    this.loadSnapshot(snapshot.entries, snapshot.seq);
    const directory = defineActor({
      what: 'directory', handle: this.behaviour(), restart: { strategy: 'resume', ...LONG_LIVED }, onGiveUp: escalate(this.log, 'directory'),
    });
    this.ref = spawnActor(parent, directory, 'directory', this.log);
  }

  /**
   * Runs with the directory authoritative outside this process (a KV bucket shared by
   * the nodes of several machines): this node's actor validates and writes there, and
   * the cache is fed by the bucket's watch, not by this actor.
   */
  startShared(parent: Ref<unknown>, writer: SharedDirectoryWriter): void {
    this.shared = writer;
    const directory = defineActor({
      what: 'directory', handle: this.behaviour(), restart: { strategy: 'resume', ...LONG_LIVED }, onGiveUp: escalate(this.log, 'directory'),
    });
    this.ref = spawnActor(parent, directory, 'directory', this.log);
  }

  private loadSnapshot(entries: DirectoryEntry[], seq: number): void {
    this.cache.load(entries, seq);
  }

  /**
   * Runs as a replica in a process that does not hold the directory: the cache is
   * loaded from the authoritative directory's snapshot and kept current by its
   * change feed (`applyChanges`); writes are forwarded to it.
   */
  startReplica(authority: DirectoryAuthority, snapshot: { seq: number; entries: DirectoryEntry[] }): void {
    this.authority = authority;
    this.loadSnapshot(snapshot.entries, snapshot.seq);
  }

  /** Applies changes from the feed, in order; a gap means a missed change: the caller must catch up. */
  applyChanges(changes: DirectoryChange[]): boolean {
    for (const change of changes) {
      if (change.seq <= this.cache.appliedSeq) continue;
      if (change.seq !== this.cache.appliedSeq + 1) return false;
      this.cache.apply(change);
    }
    return true;
  }

  /** The authoritative store's changes after a sequence number (for replicas catching up). */
  changesSince(seq: number): Promise<DirectoryChange[]> {
    if (!this.store) throw new Error('a replica has no change log');
    return this.store.changesSince(seq);
  }

  snapshot(): Promise<{ seq: number; entries: DirectoryEntry[] }> {
    if (!this.store) throw new Error('a replica has no snapshot of its own');
    return this.store.snapshot();
  }

  request<T>(build: (replyTo: Ref<AdminReply<T>>) => DirectoryRequest, timeoutMs = 120_000): Promise<AdminReply<T>> {
    if (this.authority) {
      const { replyTo: _ignored, ...message } = build(nobody()) as DirectoryRequest & { replyTo: unknown };
      return this.authority.request(message as DirectoryRequestBody) as Promise<AdminReply<T>>;
    }
    return ask<DirectoryRequest, AdminReply<T>>(this.ref, build, timeoutMs);
  }

  /**
   * Checks a password; a recent success for the same password skips the scrypt work.
   * An unknown user is checked against a decoy hash of the configured cost: how long
   * the answer takes does not tell whether the account exists.
   */
  async authenticate(address: string, password: string): Promise<UserRecord | null> {
    const user = this.cache.user(address);
    if (!user) {
      await verifyPassword(password, await this.decoyHash);
      return null;
    }
    const digest = createHash('sha256').update(this.pepper).update(user.address).update('\0').update(password).digest();
    const remembered = this.verified.get(user.address);
    if (remembered && timingSafeEqual(remembered.digest, digest) && !user.disabled) {
      // The hash may have been re-hashed meanwhile (on any node of a cluster) from the one checked here.
      const sameHash = remembered.passwordHash === user.passwordHash;
      if (sameHash || remembered.passwordHash === user.upgradedFrom) {
        if (!sameHash) this.verified.set(user.address, { passwordHash: user.passwordHash, digest });
        this.noteLogin(user);
        return user;
      }
    }
    this.passwordChecks += 1;
    if (!(await verifyPassword(password, user.passwordHash))) {
      await this.matchDecoyCost(user.passwordHash, password);
      return null;
    }
    if (user.disabled) {
      this.log.info({ user: user.address }, 'login refused: account disabled');
      return null;
    }
    this.verified.set(user.address, { passwordHash: user.passwordHash, digest });
    if ((hashCost(user.passwordHash) ?? 0) < this.options.passwordCost) this.upgradeHash(user.address, password, digest);
    this.noteLogin(user);
    return user;
  }

  /** Passwords of existing users checked with scrypt by `authenticate` (not answered from the remembered successes). */
  passwordChecks = 0;

  /** Last logins since this process started; the record keeps one at most an hour old. */
  readonly lastLogins = new Map<string, number>();

  private readonly touching = new Set<string>();

  private noteLogin(user: UserRecord): void {
    const now = Date.now();
    this.lastLogins.set(user.address, now);
    if (this.closing || this.touching.has(user.address) || now - (user.lastLogin ?? 0) < LAST_LOGIN_RESOLUTION_MS) return;
    this.touching.add(user.address);
    void this.request((replyTo) => ({ type: 'touch-login', address: user.address, at: now, replyTo }))
      .catch((err: unknown) => this.log.warn({ err, user: user.address }, 'last login not recorded'))
      .finally(() => this.touching.delete(user.address));
  }

  /**
   * A hash imported at a lower cost checks faster than the decoy: a failure against it
   * also pays the decoy's cost, so that it answers no sooner than for an unknown user.
   */
  private async matchDecoyCost(passwordHash: string, password: string): Promise<void> {
    if ((hashCost(passwordHash) ?? 0) >= this.options.passwordCost) return;
    await verifyPassword(password, await this.decoyHash);
  }

  /**
   * Re-hashes a password stored with a weaker cost (bulk import) at the configured
   * cost, once per user however many sessions log in meanwhile. Upgrades wait in a
   * queue and run one at a time: a burst of first logins after an import (thousands of
   * users) neither fills the directory actor's mailbox with requests that hold every
   * other directory request (last-login writes, admin changes) behind seconds of
   * scrypt work, nor keeps a pending query per user in memory. They are background
   * work: after each one the queue pauses nine times as long as it took (at least
   * upgradePauseMs), so upgrades use about a tenth of a core and leave the rest to the
   * logins themselves, and the 16 MiB an upgrade's scrypt needs is mapped a tenth of
   * the time. Past UPGRADE_QUEUE_MAX a login is not queued; the user is upgraded at a
   * later login.
   */
  private upgradeHash(address: string, password: string, digest: Buffer): void {
    if (this.closing || this.upgradeQueue.has(address) || this.upgrading?.address === address) return;
    if (this.upgradeQueue.size >= UPGRADE_QUEUE_MAX) return;
    this.upgradeQueue.set(address, { password, digest });
    if (this.upgrading === null && this.upgradePause === null) this.nextUpgrade();
  }

  private nextUpgrade(): void {
    const next = this.closing ? undefined : this.upgradeQueue.entries().next().value;
    if (next === undefined) return;
    const [address, { password, digest }] = next;
    this.upgradeQueue.delete(address);
    const started = Date.now();
    const done = this.request((replyTo) => ({ type: 'upgrade-hash', address, password, replyTo }))
      .then(() => this.rememberUpgraded(address, digest), (err) => this.log.warn({ err, user: address }, 'password hash upgrade failed'))
      .finally(() => this.pauseBeforeNextUpgrade(Date.now() - started));
    this.upgrading = { address, done };
  }

  private pauseBeforeNextUpgrade(tookMs: number): void {
    this.upgrading = null;
    if (this.closing || this.upgradeQueue.size === 0) return;
    const pauseMs = Math.max(this.options.upgradePauseMs ?? 100, 9 * tookMs);
    this.upgradePause = setTimeout(() => {
      this.upgradePause = null;
      this.nextUpgrade();
    }, pauseMs);
    this.upgradePause.unref();
  }

  /**
   * The new hash was made from the password just remembered as checked: the next login
   * need not check it again with scrypt (the remembered success named the old hash, and
   * every client of an imported account paid a second scrypt at the new cost). A password
   * changed meanwhile removed the remembered success, so nothing is remembered then.
   */
  private rememberUpgraded(address: string, digest: Buffer): void {
    const user = this.cache.user(address);
    const remembered = this.verified.get(address);
    if (user && remembered && timingSafeEqual(remembered.digest, digest)) this.verified.set(address, { passwordHash: user.passwordHash, digest });
  }

  /** Stops starting hash upgrades, drops the queued ones and waits for the one under way (before the store closes). */
  async drain(): Promise<void> {
    this.closing = true;
    this.upgradeQueue.clear();
    if (this.upgradePause !== null) clearTimeout(this.upgradePause);
    this.upgradePause = null;
    while (this.upgrading !== null) await this.upgrading.done;
  }

  private behaviour() {
    return async (state: undefined, msg: DirectoryRequest): Promise<undefined> => {
      try {
        const value = await this.handle(msg);
        dispatch<AdminReply>(msg.replyTo, { ok: true, value });
      } catch (err) {
        if (!(err instanceof AdminError)) throw err;
        dispatch<AdminReply>(msg.replyTo, failure(err.message, false));
      }
      return state;
    };
  }

  private async write(entries: DirectoryEntry[]): Promise<void> {
    if (this.shared) return this.shared.write(entries);
    if (!this.store) throw new Error('a replica cannot write the directory');
    const changes = await this.store.write(entries);
    for (const change of changes) this.cache.apply(change);
  }

  private async handle(msg: DirectoryRequest): Promise<unknown> {
    switch (msg.type) {
      case 'add-domain': return this.addDomain(msg.name);
      case 'remove-domain': return this.removeDomain(msg.name);
      case 'add-users': return this.addUsers(msg.users, msg.hashCost);
      case 'remove-user': return this.removeUser(msg.address);
      case 'set-password': return this.setPassword(msg.address, msg.password);
      case 'upgrade-hash': return this.upgradeStoredHash(msg.address, msg.password);
      case 'set-quota': return this.setQuota(msg.address, msg.quota);
      case 'set-disabled': return this.setDisabled(msg.address, msg.disabled);
      case 'rename-user': return this.renameUser(msg.address, msg.to, msg.keepAlias === true);
      case 'touch-login': return this.touchLogin(msg.address, msg.at);
      case 'add-alias': return this.addAlias(msg.address, msg.targets);
      case 'remove-alias': return this.removeAlias(msg.address);
      case 'add-route': return this.addRoute(msg.domain, msg.host, msg.port);
      case 'remove-route': return this.removeRoute(msg.domain);
      case 'set-placement': return this.setPlacement(msg.mailboxId, msg.node, msg.force === true);
      case 'set-share': return this.setShare(msg.grantee, msg.owner, msg.shared);
    }
  }

  private async setShare(grantee: string, owner: string, shared: boolean): Promise<null> {
    const key = shareKey(grantee, owner);
    if (this.cache.shares.has(key) === shared) return null;
    if (shared && !this.cache.user(owner)) throw new AdminError(`unknown user: ${owner}`);
    await this.write([{ kind: 'share', key, value: shared ? { grantee, owner } : null }]);
    return null;
  }

  private async addDomain(rawName: string): Promise<DomainRecord> {
    const name = rawName.trim().toLowerCase();
    if (!isValidDomain(name)) throw new AdminError(`invalid domain name: ${rawName}`);
    if (this.cache.domains.has(name)) throw new AdminError(`domain exists: ${name}`);
    const record: DomainRecord = { name, created: Date.now() };
    await this.write([{ kind: 'domain', key: name, value: record }]);
    this.log.info({ domain: name }, 'domain added');
    return record;
  }

  private async removeDomain(rawName: string): Promise<null> {
    const name = rawName.trim().toLowerCase();
    if (!this.cache.domains.has(name)) throw new AdminError(`unknown domain: ${name}`);
    const users = [...this.cache.users.keys()].filter((a) => domainOf(a) === name).length;
    if (users > 0) throw new AdminError(`domain ${name} still has ${users} user(s); remove them first`);
    const aliases = [...this.cache.aliases.keys()].filter((a) => domainOf(a) === name);
    await this.write([
      ...aliases.map((a) => ({ kind: 'alias' as const, key: a, value: null })),
      { kind: 'domain', key: name, value: null },
    ]);
    this.log.info({ domain: name }, 'domain removed');
    return null;
  }

  private checkNewAddress(rawAddress: string, seen: Set<string>): string {
    const address = normalizeAddress(rawAddress);
    if (!isValidAddress(address)) throw new AdminError(`invalid address: ${rawAddress}`);
    if (!this.cache.isLocalDomain(domainOf(address))) throw new AdminError(`unknown domain: ${domainOf(address)}`);
    if (this.cache.users.has(address) || seen.has(address)) throw new AdminError(`user exists: ${address}`);
    return address;
  }

  /** Adds users in one synced batch; a bad line is skipped with its reason, the rest go in. */
  private async addUsers(users: NewUser[], cost: number): Promise<Array<ImportLineResult>> {
    const results: ImportLineResult[] = [];
    const seen = new Set<string>();
    const accepted: Array<{ index: number; address: string; user: NewUser }> = [];
    users.forEach((user, index) => {
      try {
        const address = this.checkNewAddress(user.address, seen);
        if (user.passwordHash !== undefined && !isPasswordHash(user.passwordHash)) throw new AdminError('unsupported password hash format');
        if (user.passwordHash === undefined && !user.password) throw new AdminError('empty password');
        seen.add(address);
        accepted.push({ index, address, user });
      } catch (err) {
        if (!(err instanceof AdminError)) throw err;
        results[index] = { line: index + 1, address: user.address, status: 'skipped', reason: err.message };
      }
    });
    const records = await Promise.all(accepted.map(async ({ address, user }) => ({
      address,
      passwordHash: user.passwordHash ?? (await hashPassword(user.password as string, cost)),
      quota: user.quota ?? this.options.defaultQuota,
      // 96 random bits, 16 characters: it is in the key of every stored message and reference.
      mailboxId: randomBytes(12).toString('base64url'),
      created: Date.now(),
    } satisfies UserRecord)));
    await this.write(records.map((r) => ({ kind: 'user' as const, key: r.address, value: r })));
    accepted.forEach(({ index, address }) => (results[index] = { line: index + 1, address, status: 'added' }));
    this.log.info({ added: records.length, skipped: users.length - records.length }, 'users added');
    return results;
  }

  private existingUser(rawAddress: string): UserRecord {
    const user = this.cache.user(rawAddress);
    if (!user) throw new AdminError(`unknown user: ${normalizeAddress(rawAddress)}`);
    return user;
  }

  private async removeUser(rawAddress: string): Promise<null> {
    const user = this.existingUser(rawAddress);
    const shares = [...this.cache.shares.entries()].filter(([, share]) => share.owner === user.address || share.grantee === user.address);
    await this.write([{ kind: 'user', key: user.address, value: null }, ...shares.map(([key]) => ({ kind: 'share' as const, key, value: null }))]);
    this.verified.delete(user.address);
    this.log.info({ user: user.address }, 'user removed');
    return null;
  }

  /** `upgradedFrom`: a re-hash of the same password, which replaces this hash. */
  private async setPassword(rawAddress: string, password: string, upgradedFrom?: string): Promise<null> {
    const user = this.existingUser(rawAddress);
    if (!password) throw new AdminError('empty password');
    const passwordHash = await hashPassword(password, this.options.passwordCost);
    const { upgradedFrom: _earlier, ...rest } = user;
    await this.write([{ kind: 'user', key: user.address, value: { ...rest, passwordHash, ...(upgradedFrom ? { upgradedFrom } : {}) } }]);
    if (!upgradedFrom) this.log.info({ user: user.address }, 'password changed');
    return null;
  }

  private async upgradeStoredHash(rawAddress: string, password: string): Promise<null> {
    const user = this.cache.user(rawAddress);
    if (this.closing || !user || (hashCost(user.passwordHash) ?? 0) >= this.options.passwordCost) return null;
    if (!(await verifyPassword(password, user.passwordHash))) return null;
    return this.setPassword(rawAddress, password, user.passwordHash);
  }

  private async setQuota(rawAddress: string, quota: number): Promise<null> {
    const user = this.existingUser(rawAddress);
    if (!Number.isSafeInteger(quota) || quota < 0) throw new AdminError('quota must be a non-negative number of bytes');
    await this.write([{ kind: 'user', key: user.address, value: { ...user, quota } }]);
    return null;
  }

  private async setDisabled(rawAddress: string, disabled: boolean): Promise<null> {
    const user = this.existingUser(rawAddress);
    const { disabled: _was, ...rest } = user;
    await this.write([{ kind: 'user', key: user.address, value: disabled ? { ...rest, disabled: true } : rest }]);
    this.verified.delete(user.address);
    this.log.info({ user: user.address }, disabled ? 'user disabled' : 'user enabled');
    return null;
  }

  /**
   * The user's mailbox (every folder, its mail and quota) goes with the new address, and
   * so do the aliases that pointed at the old one, in the same write. With `keepAlias`
   * the old address becomes an alias of the new one, so mail sent to it still arrives.
   */
  private async renameUser(rawAddress: string, rawTo: string, keepAlias: boolean): Promise<UserRecord> {
    const user = this.existingUser(rawAddress);
    const to = normalizeAddress(rawTo);
    if (!isValidAddress(to)) throw new AdminError(`invalid address: ${rawTo}`);
    if (!this.cache.isLocalDomain(domainOf(to))) throw new AdminError(`unknown domain: ${domainOf(to)}`);
    if (this.cache.users.has(to)) throw new AdminError(`user exists: ${to}`);
    if (this.cache.aliases.has(to)) throw new AdminError(`alias exists: ${to}`);
    const renamed: UserRecord = { ...user, address: to };
    const retargeted: DirectoryEntry[] = [];
    for (const alias of this.cache.aliases.values()) {
      if (!alias.targets.includes(user.address)) continue;
      const targets = [...new Set(alias.targets.map((t) => (t === user.address ? to : t)))];
      retargeted.push({ kind: 'alias', key: alias.address, value: { address: alias.address, targets } });
    }
    const kept: DirectoryEntry[] = keepAlias ? [{ kind: 'alias', key: user.address, value: { address: user.address, targets: [to] } }] : [];
    // The index of who shares with whom follows the new address on both sides; the ACL
    // entries themselves are bound to the mailbox id, which the rename keeps.
    const reshared: DirectoryEntry[] = [];
    for (const [key, share] of this.cache.shares) {
      if (share.grantee !== user.address && share.owner !== user.address) continue;
      const moved = { grantee: share.grantee === user.address ? to : share.grantee, owner: share.owner === user.address ? to : share.owner };
      reshared.push({ kind: 'share', key, value: null }, { kind: 'share', key: shareKey(moved.grantee, moved.owner), value: moved });
    }
    await this.write([{ kind: 'user', key: user.address, value: null }, { kind: 'user', key: to, value: renamed }, ...retargeted, ...kept, ...reshared]);
    this.verified.delete(user.address);
    this.log.info({ user: user.address, to, aliases: retargeted.length, shares: reshared.length / 2, keepAlias }, 'user renamed');
    return renamed;
  }

  private async touchLogin(address: string, at: number): Promise<null> {
    const user = this.cache.user(address);
    if (!user || at - (user.lastLogin ?? 0) < LAST_LOGIN_RESOLUTION_MS) return null;
    await this.write([{ kind: 'user', key: user.address, value: { ...user, lastLogin: at } }]);
    return null;
  }

  private async addAlias(rawAddress: string, rawTargets: string[]): Promise<AliasRecord> {
    const address = normalizeAddress(rawAddress);
    const catchAll = address.startsWith('@');
    if (catchAll ? !isValidDomain(address.slice(1)) : !isValidAddress(address)) throw new AdminError(`invalid address: ${rawAddress}`);
    if (!this.cache.isLocalDomain(domainOf(address))) throw new AdminError(`unknown domain: ${domainOf(address)}`);
    const targets = rawTargets.map(normalizeAddress).filter((t) => t !== '');
    if (targets.length === 0) throw new AdminError('an alias needs at least one target');
    for (const target of targets) if (!isValidAddress(target)) throw new AdminError(`invalid target address: ${target}`);
    const record: AliasRecord = { address, targets };
    await this.write([{ kind: 'alias', key: address, value: record }]);
    this.log.info({ alias: address, targets }, 'alias set');
    return record;
  }

  private async removeAlias(rawAddress: string): Promise<null> {
    const address = normalizeAddress(rawAddress);
    if (!this.cache.aliases.has(address)) throw new AdminError(`unknown alias: ${address}`);
    await this.write([{ kind: 'alias', key: address, value: null }]);
    return null;
  }

  private async addRoute(rawDomain: string, rawHost: string, port: number): Promise<RouteRecord> {
    const domain = rawDomain.trim().toLowerCase();
    const host = rawHost.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (!isValidDomain(domain)) throw new AdminError(`invalid domain name: ${rawDomain}`);
    if (!isValidDomain(host) && isIP(host) === 0) throw new AdminError(`invalid host: ${rawHost}`);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new AdminError(`invalid port: ${port}`);
    const record: RouteRecord = { domain, host, port };
    await this.write([{ kind: 'route', key: domain, value: record }]);
    this.log.info({ route: domain, host, port }, 'route set');
    return record;
  }

  private async removeRoute(rawDomain: string): Promise<null> {
    const domain = rawDomain.trim().toLowerCase();
    if (!this.cache.routes.has(domain)) throw new AdminError(`unknown route: ${domain}`);
    await this.write([{ kind: 'route', key: domain, value: null }]);
    return null;
  }

  private async setPlacement(mailboxId: string, node: number, force: boolean): Promise<PlacementRecord> {
    const existing = this.cache.placements.get(mailboxId);
    if (existing && (!force || existing.node === node)) return existing;
    const record: PlacementRecord = { mailboxId, node };
    await this.write([{ kind: 'placement', key: mailboxId, value: record }]);
    return record;
  }
}
