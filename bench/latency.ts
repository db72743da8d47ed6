// Latency samples and their percentiles, for the benchmark reports.
export class LatencySamples {
  private samples: number[] = [];

  add(ms: number): void {
    this.samples.push(ms);
  }

  get count(): number {
    return this.samples.length;
  }

  /** The q-quantile (0..1) by nearest rank, or NaN without samples. */
  quantile(q: number): number {
    if (this.samples.length === 0) return NaN;
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
  }

  summary(): string {
    return `p50 ${this.quantile(0.5).toFixed(2)} ms, p99 ${this.quantile(0.99).toFixed(2)} ms, max ${this.quantile(1).toFixed(2)} ms`;
  }
}

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
