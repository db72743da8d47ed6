// Which deliveries may already be in a mailbox, as far as this process can tell without
// reading the delivery marker. A node's own copy of a part another node forwarded to it
// (received since this process started) can only find a marker if another copy of the
// same delivery was delivered here meanwhile: the forwarding node queues its copy only
// once the forward failed, that copy arrives like any repeatable delivery, and a forward
// is never received again after a restart (a NATS request dies with the connection). So
// the mailbox actor notes every repeatable delivery it handles, and reads the marker for
// such a first copy only when its id was noted. Each mailbox actor handles one message at
// a time, so a copy is noted before the other is checked whichever comes first.
// Bounded: past MAX_NOTED the set is dropped and every first copy reads its marker again.
// A mailbox moved in from another process (cluster rebalance) may hold markers of copies
// delivered there: from then on every first copy reads its marker (assumeAny).
const MAX_NOTED = 200_000;

export class RepeatedDeliveries {
  private readonly noted = new Set<string>();
  private saturated = false;

  /** A delivery that may repeat another one (a retry, a recovered entry, a fallback copy). */
  note(deliveryId: string): void {
    if (this.saturated) return;
    if (this.noted.size >= MAX_NOTED) {
      this.noted.clear();
      this.saturated = true;
      return;
    }
    this.noted.add(deliveryId);
  }

  /** Mail may have reached a mailbox here by a way not noted (a mailbox moved in): every first copy reads its marker. */
  assumeAny(): void {
    this.noted.clear();
    this.saturated = true;
  }

  /** Whether a marker for a first copy's delivery id may exist (read it then). */
  mayExist(deliveryId: string): boolean {
    return this.saturated || this.noted.has(deliveryId);
  }
}
