// The cluster credential a node's session proxy logs in with on the node that holds a
// user's mailbox, once it has checked the user's own password itself: a ticket
// `ternmail-cluster:<unix-seconds>:<HMAC-SHA256(secret, account, seconds)>` sent as the
// password. The owner accepts it only from the address of a node with a live lease,
// only within two minutes of its time, and only for the account it was made for; the
// cluster secret itself never crosses the wire.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KV } from '@nats-io/kv';

const PREFIX = 'ternmail-cluster:';
/** How far a ticket's time may be from the owner's clock (both ways: machines' clocks differ). */
const VALID_MS = 120_000;

export class PeerTickets {
  constructor(
    private readonly secret: string,
    /** True for the address of a node of this cluster with a live lease. */
    private readonly isPeer: (address: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** A ticket for `account`, valid for two minutes on any node. */
  issue(account: string): string {
    const seconds = Math.floor(this.now() / 1000);
    return `${PREFIX}${seconds}:${this.mac(account, seconds)}`;
  }

  /** Whether `password` is a valid ticket for `account`, sent from a cluster peer. */
  accepts(address: string, account: string, password: string): boolean {
    if (!password.startsWith(PREFIX) || !this.isPeer(address)) return false;
    const [secondsText, mac] = password.slice(PREFIX.length).split(':');
    const seconds = Number(secondsText);
    if (!Number.isInteger(seconds) || mac === undefined || !/^[0-9a-f]{64}$/.test(mac)) return false;
    if (Math.abs(this.now() - seconds * 1000) > VALID_MS) return false;
    return timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(this.mac(account, seconds), 'hex'));
  }

  private mac(account: string, seconds: number): string {
    return createHmac('sha256', this.secret).update(`${account.toLowerCase()}\0${seconds}`).digest('hex');
  }
}

/** Where a secret made by the first node is kept (in the nodes bucket, beside the leases). */
const SECRET_KEY = 'cluster.proxy-secret';

/**
 * The cluster secret: the configured one, or else the one the first node made and
 * stored create-if-absent, so that every node agrees without configuration.
 */
export async function clusterSecretOf(kv: KV, configured: string): Promise<string> {
  if (configured !== '') return configured;
  try {
    await kv.create(SECRET_KEY, new TextEncoder().encode(randomBytes(32).toString('hex')));
  } catch {
    // another node made it first
  }
  const entry = await kv.get(SECRET_KEY);
  if (!entry) throw new Error('the cluster secret is missing from the nodes bucket');
  return entry.string();
}
