// Errors seen by a load generator, counted by message (the first 120 characters),
// for the line each report prints per kind of error.
export class ErrorTally {
  private readonly byMessage = new Map<string, number>();

  add(err: unknown): void {
    const key = (err as Error).message.slice(0, 120);
    this.byMessage.set(key, (this.byMessage.get(key) ?? 0) + 1);
  }

  get count(): number {
    let n = 0;
    for (const v of this.byMessage.values()) n += v;
    return n;
  }

  /** One line per kind of error: `  N x MESSAGE`. */
  print(): void {
    for (const [error, n] of this.byMessage) console.log(`  ${n} x ${error}`);
  }
}
