// One timer for the timeouts of many connections. An idle connection must still be
// logged out when its timeout passes, but a timer per connection costs memory that
// 5,000 idling IMAP clients multiply (the Timeout, its callback and what that closes
// over), and every tick of each would wake its session for nothing. A sweep instead
// visits its members every `everyMs` and wakes only those whose deadline has passed.
// Sweeps are shared by period; a sweep with no members holds no timer.

/** A connection whose timeout the sweep watches. */
export interface SweptConnection {
  /** True when a timeout may have passed at `now` (the connection then checks itself). */
  timeoutDue(now: number): boolean;
  /** Told when timeoutDue said so. */
  onTimeoutDue(): void;
}

export class TimeoutSweep {
  private readonly members = new Set<SweptConnection>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly everyMs: number) {}

  get size(): number {
    return this.members.size;
  }

  add(member: SweptConnection): void {
    this.members.add(member);
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.sweep(), this.everyMs);
    this.timer.unref();
  }

  delete(member: SweptConnection): void {
    this.members.delete(member);
    if (this.members.size > 0 || this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  private sweep(): void {
    const now = Date.now();
    for (const member of this.members) if (member.timeoutDue(now)) member.onTimeoutDue();
  }
}

const shared = new Map<number, TimeoutSweep>();

/** The process's sweep for this period. */
export function sweepEvery(everyMs: number): TimeoutSweep {
  let sweep = shared.get(everyMs);
  if (sweep === undefined) {
    sweep = new TimeoutSweep(everyMs);
    shared.set(everyMs, sweep);
  }
  return sweep;
}
