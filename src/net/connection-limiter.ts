// Open connections, per client address across every listener (SMTP, IMAP, POP3 share
// one count) and in total per protocol, so that neither one address nor a flood of
// addresses can take all the sockets. Password guessing is the auth guard's job.
// Another node of a cluster of machines (its session proxy) has no per-address cap.
import { isClusterPeer } from './cluster-peers.js';

export type ConnectionProtocol = 'smtp' | 'imap' | 'pop3';

export type ConnectionRefusal = 'address' | 'total';

export interface ConnectionCaps {
  perIp: number;
  total: Record<ConnectionProtocol, number>;
}

export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  private readonly totals: Record<ConnectionProtocol, number> = { smtp: 0, imap: 0, pop3: 0 };

  constructor(private readonly caps: ConnectionCaps) {}

  /** Takes a slot for a new connection, or says which cap refuses it. */
  acquire(address: string, protocol: ConnectionProtocol): ConnectionRefusal | null {
    if (this.totals[protocol] >= this.caps.total[protocol]) return 'total';
    const count = this.open.get(address) ?? 0;
    if (count >= this.caps.perIp && !isClusterPeer(address)) return 'address';
    this.open.set(address, count + 1);
    this.totals[protocol] += 1;
    return null;
  }

  release(address: string, protocol: ConnectionProtocol): void {
    const count = (this.open.get(address) ?? 1) - 1;
    if (count <= 0) this.open.delete(address);
    else this.open.set(address, count);
    this.totals[protocol] = Math.max(0, this.totals[protocol] - 1);
  }
}
