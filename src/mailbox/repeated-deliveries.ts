// Which deliveries may already be in a mailbox of this node because another node sent
// a copy. Mail forwarded to the mailbox's node is queued there, and the sender queues
// the same part itself only when that node's answer did not reach it in time; the
// sender's copy always arrives here from another node, checked against the delivery
// marker. So the forwarded copy needs the marker check (a LevelDB read per delivery)
// only when such a copy has reached this process; a process that restarted recovers
// its queue with every check on, and a mailbox moved in turns them all on.

/** Past this many ids the tracker stops counting and every forwarded delivery is checked. */
const MAX_TRACKED = 100_000;

export class RepeatedDeliveries {
  private readonly arrived = new Set<string>();
  private checkAll = false;

  /** A delivery of `deliveryId` came from another node with the marker check: a forwarded copy must check too. */
  arrivedFromElsewhere(deliveryId: string): void {
    if (this.checkAll) return;
    if (this.arrived.size >= MAX_TRACKED) this.assumeAny();
    else this.arrived.add(deliveryId);
  }

  /** Mail may have reached a mailbox here by a way not tracked (a mailbox moved in): check every forwarded delivery. */
  assumeAny(): void {
    this.checkAll = true;
    this.arrived.clear();
  }

  /** Whether a forwarded delivery must check the delivery marker. */
  mustCheck(deliveryId: string): boolean {
    return this.checkAll || this.arrived.has(deliveryId);
  }
}
