// Per-client-address limits shared by all listeners: open connections, and failed
// authentications within a sliding window.
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxAuthFailures: number,
    private readonly failureWindowMs = 15 * 60_000,
  ) {}

  acquire(address: string): boolean {
    const count = this.open.get(address) ?? 0;
    if (count >= this.maxConnections) return false;
    this.open.set(address, count + 1);
    return true;
  }

  release(address: string): void {
    const count = (this.open.get(address) ?? 1) - 1;
    if (count <= 0) this.open.delete(address);
    else this.open.set(address, count);
  }

  mayAuthenticate(address: string): boolean {
    const entry = this.failures.get(address);
    if (!entry) return true;
    if (Date.now() - entry.since > this.failureWindowMs) {
      this.failures.delete(address);
      return true;
    }
    return entry.count < this.maxAuthFailures;
  }

  authFailed(address: string): void {
    const entry = this.failures.get(address);
    if (!entry || Date.now() - entry.since > this.failureWindowMs) this.failures.set(address, { count: 1, since: Date.now() });
    else entry.count += 1;
  }
}
