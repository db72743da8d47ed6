// The session proxy of a node of a cluster of machines (as Dovecot's proxy): once an
// IMAP or POP3 user has logged in on a node that does not hold the mailbox, the
// connection is relayed byte for byte to the owner node's own listener, where a full
// session runs next to the data, instead of each command crossing NATS. This node
// checked the password (and its failed-login limits); it logs in on the owner with a
// cluster ticket, and from then on only copies bytes, both ways, with backpressure;
// when one side closes, the other is closed too.
//
// Decisions: the client's TLS ends here (the owner leg is plain TCP on the cluster's
// network, as the NATS traffic); COMPRESS can only start after login, so it is the
// owner's, and the relay carries its compressed bytes unchanged; STARTTLS cannot come
// after login. The capabilities the client was told at login are this node's: every
// node runs the same software and configuration, so they hold on the owner. When the owner
// cannot be reached or refuses the ticket, nothing was sent yet: the session stays here
// on the remote path, which answers NO [UNAVAILABLE] / -ERR [SYS/TEMP] while the owner is down.
import net from 'node:net';
import type { Logger } from '../core/logger.js';
import { metrics } from '../core/metrics.js';
import type { ConnectionHandoff, HandoffOffer, HandoffOutcome } from '../transport/handoff.js';
import { loginOnOwner, type OwnerEndpoint, type ProxiedProtocol } from './owner-login.js';

const OWNER_LOGIN_TIMEOUT_MS = 5_000;
/** After one side closed, the other's last bytes get this long to drain. */
const CLOSE_LINGER_MS = 5_000;

export interface SessionProxyOptions {
  self: number;
  /** The node holding a mailbox, if placed. */
  ownerOf: (mailboxId: string) => number | undefined;
  /** Where the owner's listener is, or null when it has none or its lease is not live. */
  endpointOf: (node: number, protocol: ProxiedProtocol) => OwnerEndpoint | null;
  /** A cluster ticket for the account (src/cluster/peer-tickets.ts). */
  ticketFor: (account: string) => string;
  log: Logger;
}

export class SessionProxy implements ConnectionHandoff {
  constructor(private readonly options: SessionProxyOptions) {}

  async offer(offer: HandoffOffer): Promise<HandoffOutcome> {
    const { self, ownerOf, endpointOf, ticketFor, log } = this.options;
    const owner = ownerOf(offer.mailboxId);
    if (owner === undefined || owner === self) return false;
    const endpoint = endpointOf(owner, offer.protocol);
    if (endpoint === null) return false;
    const client = offer.socket;
    // From here the session reads nothing more; what it read and did not process goes to the owner.
    client.pause();
    const pending = offer.unread();
    if (pending === null) {
      client.resume();
      return false;
    }
    const context = { protocol: offer.protocol, user: offer.user, client: offer.remoteAddress, owner };
    const login = await loginOnOwner(offer.protocol, endpoint, offer.user, ticketFor(offer.user), OWNER_LOGIN_TIMEOUT_MS);
    if (!login.ok || client.destroyed) {
      if (login.ok) login.socket.destroy();
      else log.warn({ ...context, reason: login.reason }, `${offer.protocol} session not relayed to its node; serving it here`);
      metrics.handoffs.inc({ result: 'refused' });
      client.resume();
      return false;
    }
    relay(client, login.socket, pending, login.forward, login.rest);
    log.info(context, `${offer.protocol} session relayed to its node`);
    metrics.handoffs.inc({ result: 'relayed' });
    return 'relayed';
  }
}

/**
 * Copies bytes both ways: first what the client sent ahead (to the owner) and the
 * owner's login answer meant for the client, then everything, each direction paused
 * while the other side's buffer is full. One side's end ends the other's writing; a
 * close or error closes both.
 */
function relay(client: net.Socket, owner: net.Socket, pending: Buffer, forward: Buffer, rest: Buffer): void {
  // The session's readers: it no longer reads this connection (its other listeners are harmless).
  client.removeAllListeners('data');
  while (client.writableCorked > 0) client.uncork();
  client.setTimeout(0);
  client.on('error', () => undefined);
  owner.on('error', () => undefined);
  if (pending.length > 0) owner.write(pending);
  if (forward.length > 0) client.write(forward);
  if (rest.length > 0) client.write(rest);
  client.pipe(owner);
  owner.pipe(client);
  let closing = false;
  const closeBoth = (): void => {
    if (closing) return;
    closing = true;
    for (const socket of [client, owner]) {
      if (socket.destroyed) continue;
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
    }
  };
  client.once('close', closeBoth);
  owner.once('close', closeBoth);
  owner.resume();
}
