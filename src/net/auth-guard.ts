// Brakes on password guessing, one policy for SMTP AUTH, IMAP and POP3: every attempt
// reserves a slot per client address and per account before the password is checked
// (attempts in flight count), failures slow and then lock the account whatever the address.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';
import type { NetSettings } from './settings.js';

export interface AuthLimits {
  /** Failed (or in-flight) attempts from one address within the window before it is refused. */
  maxFailuresPerIp: number;
  /** Failed attempts for one account before its logins are locked. */
  maxFailuresPerAccount: number;
  /** Failed attempts for one account after which each further attempt waits (doubling). */
  delayAfter: number;
  lockSeconds: number;
  /** How long failures are remembered after the last one. */
  windowMs?: number;
  /** Entries kept per map (addresses, accounts); the oldest go first. */
  maxEntries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export const AUTH_GUARD_DEFAULTS = { windowMs: 15 * 60_000, maxEntries: 100_000, baseDelayMs: 1000, maxDelayMs: 16_000, sweepMs: 60_000 } as const;

/** How long an attempt waits for slots held by attempts in flight before it is refused. */
const SLOT_WAIT_MS = 10_000;
/**
 * Slots not given back by then are taken as lost (a worker killed during a login): a
 * check takes well under a second, its progressive delay at most maxDelayMs.
 */
const IN_FLIGHT_TTL_MS = 120_000;

export type AuthRefusal = 'address' | 'account';
/** Plain data, so that it can cross processes: the primary decides for the whole cluster. */
/** `busy`: only attempts still in flight fill the limit; one may succeed and free the way. */
export type AuthReservation = { ok: true; delayMs: number } | { ok: false; reason: AuthRefusal; busy?: boolean };
/** `aborted`: the check could not be made (an internal error); neither success nor failure. */
export type AuthOutcome = 'success' | 'failure' | 'aborted';

/** What a login holds between its reservation and its result. */
export type AuthAdmission = { ok: true; delayMs: number; settle(outcome: AuthOutcome): void } | { ok: false; reason: AuthRefusal };

/** The guard as the listeners reach it: the guard itself in one process, the primary's in a cluster. */
export interface AuthGate {
  admit(ip: string, account: string): Promise<AuthAdmission>;
}

export interface BlockedEntry {
  kind: 'ip' | 'account';
  key: string;
  failures: number;
  secondsLeft: number;
}

interface Attempts {
  failures: number;
  inFlight: number;
  lastFailure: number;
  lastReserved: number;
  /** Accounts only: logins refused until then (0 = not locked). */
  lockedUntil: number;
}

/** A map with a size cap: expired entries are swept first, then the least recently touched. */
class BoundedAttempts {
  private readonly entries = new Map<string, Attempts>();
  private lastSweep = 0;

  constructor(private readonly maxEntries: number, private readonly expired: (entry: Attempts, now: number) => boolean) {}

  get size(): number {
    return this.entries.size;
  }

  peek(key: string): Attempts | undefined {
    return this.entries.get(key);
  }

  /** The entry for key, created if absent, moved to the young end. */
  touch(key: string, now: number): Attempts {
    const existing = this.entries.get(key);
    if (existing) {
      this.entries.delete(key);
      this.entries.set(key, existing);
      return existing;
    }
    if (this.entries.size >= this.maxEntries) this.makeRoom(now);
    const fresh: Attempts = { failures: 0, inFlight: 0, lastFailure: 0, lastReserved: 0, lockedUntil: 0 };
    this.entries.set(key, fresh);
    return fresh;
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, entry] of this.entries) if (this.expired(entry, now)) this.entries.delete(key);
  }

  *all(): IterableIterator<[string, Attempts]> {
    yield* this.entries;
  }

  /** At most one full sweep a second when full: a flood of new keys evicts the oldest instead. */
  private makeRoom(now: number): void {
    if (now - this.lastSweep >= 1000) this.sweep(now);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

export class AuthGuard implements AuthGate {
  private readonly limits: Required<AuthLimits>;
  private readonly ips: BoundedAttempts;
  private readonly accounts: BoundedAttempts;
  private readonly sweeper: NodeJS.Timeout;

  constructor(limits: AuthLimits, private readonly log: Logger) {
    this.limits = { ...AUTH_GUARD_DEFAULTS, ...limits };
    const expired = (entry: Attempts, now: number) =>
      (entry.inFlight === 0 || now - entry.lastReserved > IN_FLIGHT_TTL_MS) && entry.lockedUntil <= now && now - entry.lastFailure > this.limits.windowMs;
    this.ips = new BoundedAttempts(this.limits.maxEntries, expired);
    this.accounts = new BoundedAttempts(this.limits.maxEntries, expired);
    this.sweeper = setInterval(() => this.sweep(), AUTH_GUARD_DEFAULTS.sweepMs).unref();
  }

  async admit(ip: string, account: string): Promise<AuthAdmission> {
    const reservation = await reserveWhenFree(async () => this.reserve(ip, account));
    if (!reservation.ok) return reservation;
    return { ...reservation, settle: (outcome) => this.settle(ip, account, outcome) };
  }

  /** Takes an attempt slot for (ip, account), or says which limit refuses it. */
  reserve(ip: string, rawAccount: string, now = Date.now()): AuthReservation {
    const account = accountKey(rawAccount);
    const byIp = this.current(this.ips, ip, now);
    if (byIp.failures + byIp.inFlight >= this.limits.maxFailuresPerIp) {
      return { ok: false, reason: 'address', busy: byIp.failures < this.limits.maxFailuresPerIp };
    }
    const byAccount = this.current(this.accounts, account, now);
    if (byAccount.lockedUntil > now) return { ok: false, reason: 'account' };
    if (byAccount.failures + byAccount.inFlight >= this.limits.maxFailuresPerAccount) {
      return { ok: false, reason: 'account', busy: byAccount.failures < this.limits.maxFailuresPerAccount };
    }
    byIp.inFlight += 1;
    byAccount.inFlight += 1;
    byIp.lastReserved = now;
    byAccount.lastReserved = now;
    // Failures only: concurrent logins with the right password are not slowed down.
    return { ok: true, delayMs: this.delayFor(byAccount.failures) };
  }

  /** Gives back the slot; a failure counts against both the address and the account. */
  settle(ip: string, rawAccount: string, outcome: AuthOutcome, now = Date.now()): void {
    const account = accountKey(rawAccount);
    const byIp = this.ips.peek(ip);
    const byAccount = this.accounts.peek(account);
    if (byIp) byIp.inFlight = Math.max(0, byIp.inFlight - 1);
    if (byAccount) byAccount.inFlight = Math.max(0, byAccount.inFlight - 1);
    this.record(ip, rawAccount, outcome, now);
  }

  /**
   * Counts an outcome without a slot: this guard's own (from settle), or one another
   * node of a cluster of machines reported, so that failures count cluster-wide.
   */
  record(ip: string, rawAccount: string, outcome: AuthOutcome, now = Date.now()): void {
    const account = accountKey(rawAccount);
    const byAccount = this.accounts.peek(account);
    if (outcome === 'success' && byAccount) byAccount.failures = 0;
    if (outcome !== 'failure') return;
    const failedFromIp = this.ips.touch(ip, now);
    this.countFailure(failedFromIp, now);
    if (failedFromIp.failures === this.limits.maxFailuresPerIp) {
      this.log.warn({ client: ip, failures: failedFromIp.failures }, 'client address refused logins after too many failed logins');
    }
    const counted = this.accounts.touch(account, now);
    this.countFailure(counted, now);
    this.lockIfDue(counted, account, ip, now);
  }

  /** Whether failed logins are counted against the account (a success would clear them). */
  hasFailures(rawAccount: string): boolean {
    return (this.accounts.peek(accountKey(rawAccount))?.failures ?? 0) > 0;
  }

  /** Addresses and accounts refused right now, with their failures and seconds left. */
  blocked(now = Date.now()): BlockedEntry[] {
    const rows: BlockedEntry[] = [];
    for (const [key, entry] of this.ips.all()) {
      const left = entry.lastFailure + this.limits.windowMs - now;
      if (entry.failures >= this.limits.maxFailuresPerIp && left > 0) rows.push({ kind: 'ip', key, failures: entry.failures, secondsLeft: Math.ceil(left / 1000) });
    }
    for (const [key, entry] of this.accounts.all()) {
      if (entry.lockedUntil > now) rows.push({ kind: 'account', key, failures: entry.failures, secondsLeft: Math.ceil((entry.lockedUntil - now) / 1000) });
    }
    return rows;
  }

  /** Forgets the failures of an address or an account; false when nothing was recorded. */
  unblock(target: string): boolean {
    const removedIp = this.ips.delete(target);
    const removedAccount = this.accounts.delete(accountKey(target));
    if (removedIp || removedAccount) this.log.info({ target }, 'authentication block lifted by the operator');
    return removedIp || removedAccount;
  }

  /** Entries held (for the memory bound's tests and stats). */
  get size(): { ips: number; accounts: number } {
    return { ips: this.ips.size, accounts: this.accounts.size };
  }

  sweep(now = Date.now()): void {
    this.ips.sweep(now);
    this.accounts.sweep(now);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /** The entry for key with stale failures and an elapsed lock forgotten. */
  private current(map: BoundedAttempts, key: string, now: number): Attempts {
    const entry = map.touch(key, now);
    if (entry.inFlight > 0 && now - entry.lastReserved > IN_FLIGHT_TTL_MS) entry.inFlight = 0;
    const lockElapsed = entry.lockedUntil !== 0 && entry.lockedUntil <= now;
    if (lockElapsed || (entry.failures > 0 && now - entry.lastFailure > this.limits.windowMs)) {
      entry.failures = 0;
      entry.lockedUntil = 0;
    }
    return entry;
  }

  private countFailure(entry: Attempts, now: number): void {
    entry.failures += 1;
    entry.lastFailure = now;
  }

  private lockIfDue(entry: Attempts, account: string, ip: string, now: number): void {
    if (entry.lockedUntil > now || entry.failures < this.limits.maxFailuresPerAccount) return;
    entry.lockedUntil = now + this.limits.lockSeconds * 1000;
    this.log.warn({ account, client: ip, failures: entry.failures, lockSeconds: this.limits.lockSeconds }, 'account logins locked after too many failed logins');
  }

  /** No wait for the first `delayAfter` attempts, then 1 s, 2 s, 4 s ... up to the cap. */
  private delayFor(failures: number): number {
    if (failures < this.limits.delayAfter) return 0;
    const steps = Math.min(failures - this.limits.delayAfter, 30);
    return Math.min(this.limits.baseDelayMs * 2 ** steps, this.limits.maxDelayMs);
  }
}

/**
 * Reserves a slot, waiting while attempts in flight hold them all: concurrent logins
 * with the right password (a client opening many connections) go through one after
 * another, while concurrent guesses are checked no more often than the limit allows.
 */
export async function reserveWhenFree(reserve: () => Promise<AuthReservation>, waitMs = SLOT_WAIT_MS): Promise<AuthReservation> {
  const deadline = Date.now() + waitMs;
  let pause = 10;
  for (;;) {
    const reservation = await reserve();
    if (reservation.ok || !reservation.busy || Date.now() >= deadline) return reservation;
    await sleep(pause);
    pause = Math.min(pause * 2, 200);
  }
}

/** Longer than any address (RFC 5321 allows 254 characters): kept as a digest. */
const MAX_ACCOUNT_KEY = 256;

/**
 * Accounts are counted by their normalized name, whether or not they exist; a name too
 * long to be an address by its digest, so that an entry stays small whatever is sent.
 */
function accountKey(account: string): string {
  const name = account.trim().toLowerCase();
  if (name.length <= MAX_ACCOUNT_KEY) return name;
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

/** The guard's limits from the server settings. */
export function authLimitsOf(net: NetSettings): AuthLimits {
  return {
    maxFailuresPerIp: net.maxAuthFailuresPerIp,
    maxFailuresPerAccount: net.maxAuthFailuresPerAccount,
    delayAfter: net.authDelayAfter,
    lockSeconds: net.authLockSeconds,
  };
}
