// Whether another node answers, as a login asks before it lets a user in whose mailbox
// is held there (so that a node killed moments ago, whose lease has not lapsed yet,
// gives NO [UNAVAILABLE] / -ERR [SYS/TEMP] instead of a session that cannot work).
// One ping per login was a NATS round trip on every relayed session's path: an
// answer is taken as good for a second, so a busy node pings each peer about once a
// second whatever its login rate. Failures are not remembered: the next login asks again.
export class Reachability {
  private readonly answeredAt = new Map<number, number>();

  constructor(
    private readonly ping: (node: number) => Promise<unknown>,
    private readonly freshMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The check as a function, for the mailbox registry. */
  static of(ping: (node: number) => Promise<unknown>): (node: number) => Promise<boolean> {
    const reachability = new Reachability(ping);
    return (node) => reachability.reachable(node);
  }

  async reachable(node: number): Promise<boolean> {
    const last = this.answeredAt.get(node);
    if (last !== undefined && this.now() - last < this.freshMs) return true;
    try {
      await this.ping(node);
    } catch {
      this.answeredAt.delete(node);
      return false;
    }
    this.answeredAt.set(node, this.now());
    return true;
  }
}
