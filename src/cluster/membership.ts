// Membership of a cluster of machines: every node holds a lease, its record in the
// `ternmail-nodes` KV bucket (roles, address, load), which it refreshes every
// `leaseInterval` ms. A lease older than `leaseTtl` has lapsed: the node is frozen,
// cut off or dead, takes no new mailboxes, and `cluster status` shows it so. Every
// node follows the bucket with a watch; a node seen coming (back) up, a new start or
// a refresh after a lapse, is announced so that deliveries waiting for it go at once.
import { Packr } from 'msgpackr';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { Logger } from '../core/logger.js';

export const NODES_BUCKET = 'ternmail-nodes';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const WATCH_RETRY_MS = 500;

export interface NodeLoad {
  mailboxes: number;
  sessions: number;
  queued: number;
  delivered: number;
}

/** What a node says of itself in its lease. */
export interface NodeLease {
  node: number;
  roles: string[];
  /** The address its listeners and admin API are bound to. */
  host: string;
  /** The addresses it connects from and is reached at (its bind address, or its interfaces' when bound to a wildcard). */
  addresses?: string[];
  /** Its IMAP and POP3 listeners' ports, for the session proxy of the other nodes (0: none). */
  imapPort?: number;
  pop3Port?: number;
  adminUrl: string;
  pid: number;
  startedAt: number;
  state: 'up' | 'stopped';
  load: NodeLoad;
}

/** A lease as another node sees it: how old, and whether it lapsed. */
export interface LeaseView extends NodeLease {
  leaseAgeMs: number;
  status: 'up' | 'lapsed' | 'stopped';
}

interface Held {
  lease: NodeLease;
  refreshedAt: number;
  lapsedLogged: boolean;
}

export interface MembershipOptions {
  self: () => NodeLease;
  intervalMs: number;
  ttlMs: number;
  log: Logger;
  /** Another node started, or refreshed its lease after it had lapsed. */
  onNodeUp: (node: number) => void;
}

export class Membership {
  private readonly held = new Map<number, Held>();
  private timer: NodeJS.Timeout | null = null;
  private iterator: { stop(): void } | null = null;
  private stopped = false;

  constructor(private readonly kv: KV, private readonly options: MembershipOptions) {}

  /** Follows the other nodes' leases (before this node serves, so that it can place mailboxes). */
  follow(): void {
    void this.watchLoop();
  }

  /** Takes this node's lease and keeps it fresh: from now on it counts as up. */
  async announce(): Promise<void> {
    // Right after the bucket is created its stream may still be electing a leader.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await this.refresh();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        this.options.log.debug({ err }, 'first lease not written yet; retrying');
        await new Promise((r) => setTimeout(r, WATCH_RETRY_MS));
      }
    }
    let failing = false;
    this.timer = setInterval(() => {
      this.refresh().then(() => {
        if (failing) this.options.log.info('lease refreshed again');
        failing = false;
      }, (err) => {
        if (!failing) this.options.log.warn({ err }, 'lease refresh failed; retrying every interval');
        failing = true;
      });
      this.reportLapses();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const lease = this.options.self();
    await this.kv.put(`node.${lease.node}`, packr.pack(lease));
  }

  private async watchLoop(): Promise<void> {
    let failing = false;
    while (!this.stopped) {
      try {
        const watch = await this.kv.watch();
        this.iterator = watch;
        failing = false;
        for await (const entry of watch) this.apply(entry);
      } catch (err) {
        if (!this.stopped && !failing) this.options.log.warn({ err }, 'membership watch interrupted; resuming');
        failing = true;
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, WATCH_RETRY_MS));
    }
  }

  private apply(entry: KvWatchEntry): void {
    if (entry.operation !== 'PUT' || !entry.key.startsWith('node.')) return;
    let lease: NodeLease;
    try {
      lease = packr.unpack(entry.value) as NodeLease;
    } catch (err) {
      this.options.log.error({ err, key: entry.key }, 'undecodable lease skipped');
      return;
    }
    const before = this.held.get(lease.node);
    // Ages are measured on this node's clock (machines' clocks differ): a refresh counts from when it
    // is seen; only the leases replayed when the watch starts take the NATS server's timestamp.
    const refreshedAt = entry.isUpdate ? Date.now() : Math.min(Date.now(), entry.created.getTime());
    this.held.set(lease.node, { lease, refreshedAt, lapsedLogged: false });
    if (lease.node === this.options.self().node || lease.state !== 'up') return;
    // Entries replayed at start are old news; only a lease seen live now counts as a node coming up.
    if (Date.now() - refreshedAt > this.options.ttlMs) return;
    const restarted = !before || before.lease.startedAt !== lease.startedAt || before.lease.state !== 'up';
    const returned = before !== undefined && refreshedAt - before.refreshedAt > this.options.ttlMs;
    if (restarted || returned) {
      this.options.log.info({ node: lease.node, host: lease.host, restarted }, 'node up');
      this.options.onNodeUp(lease.node);
    }
  }

  /** One log line per lease seen lapsing. */
  private reportLapses(): void {
    for (const held of this.held.values()) {
      if (held.lease.state !== 'up' || held.lapsedLogged || this.ageOf(held) <= this.options.ttlMs) continue;
      held.lapsedLogged = true;
      this.options.log.warn({ node: held.lease.node, leaseAgeMs: this.ageOf(held) }, 'node lease lapsed');
    }
  }

  private ageOf(held: Held): number {
    return Math.max(0, Date.now() - held.refreshedAt);
  }

  /** Every node that ever held a lease, by number. */
  view(): LeaseView[] {
    return [...this.held.values()].sort((a, b) => a.lease.node - b.lease.node).map((held) => {
      const leaseAgeMs = this.ageOf(held);
      const status = held.lease.state === 'stopped' ? 'stopped' : leaseAgeMs > this.options.ttlMs ? 'lapsed' : 'up';
      return { ...held.lease, leaseAgeMs, status };
    });
  }

  /** Nodes with a live lease and the store role: where new mailboxes may go. */
  liveStoreNodes(): number[] {
    return this.view().filter((v) => v.status === 'up' && v.roles.includes('store')).map((v) => v.node);
  }

  /** The live lease of `node`, if it has one. */
  liveLease(node: number): LeaseView | undefined {
    return this.view().find((v) => v.node === node && v.status === 'up');
  }

  isLive(node: number): boolean {
    return this.view().some((v) => v.node === node && v.status === 'up');
  }

  /** Marks this node stopped (a clean stop, not a lapse) and stops refreshing. */
  async leave(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.iterator?.stop();
    const lease = this.options.self();
    await this.kv.put(`node.${lease.node}`, packr.pack({ ...lease, state: 'stopped' } satisfies NodeLease)).catch((err) => {
      this.options.log.warn({ err }, 'could not mark this node stopped; its lease lapses instead');
    });
  }
}
