// Progress of a long command (export, import, backup, rebalance): on a terminal one
// line redrawn in place, `[#########.....] 120/400 messages  3.1 MiB  ETA 0:42`; off
// a terminal (a pipe, a log, cron) a plain line at most every few seconds and at the
// end, so that logs stay readable.
export interface ProgressOptions {
  /** What is counted: "messages", "bytes" (shown as MiB). */
  unit: string;
  write?: (text: string) => void;
  tty?: boolean;
  /** Milliseconds between plain lines off a terminal. */
  plainEveryMs?: number;
  now?: () => number;
}

const BAR_WIDTH = 30;

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export class Progress {
  private readonly started: number;
  private lastPlain = 0;
  private lastLine = '';
  private readonly write: (text: string) => void;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly label: string, private total: number, private readonly options: ProgressOptions) {
    this.write = options.write ?? ((text) => process.stdout.write(text));
    this.tty = options.tty ?? process.stdout.isTTY === true;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  private amount(n: number): string {
    return this.options.unit === 'bytes' ? `${(n / 1048576).toFixed(1)} MiB` : `${n} ${this.options.unit}`;
  }

  line(done: number, extra = ''): string {
    const elapsed = (this.now() - this.started) / 1000;
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const bar = '#'.repeat(Math.round(fraction * BAR_WIDTH)).padEnd(BAR_WIDTH, '.');
    const eta = done > 0 && this.total > done ? formatEta((elapsed / done) * (this.total - done)) : done >= this.total ? '0:00' : '?';
    const count = this.options.unit === 'bytes' ? `${this.amount(done)} of ${this.amount(this.total)}` : `${done}/${this.total} ${this.options.unit}`;
    return `${this.label} [${bar}] ${count}${extra ? `  ${extra}` : ''}  ETA ${eta}`;
  }

  update(done: number, extra = '', total?: number): void {
    if (total !== undefined) this.total = total;
    const line = this.line(done, extra);
    if (this.tty) {
      if (line !== this.lastLine) this.write(`\r${line}`);
      this.lastLine = line;
      return;
    }
    if (this.now() - this.lastPlain < (this.options.plainEveryMs ?? 2000)) return;
    this.lastPlain = this.now();
    this.write(`${line}\n`);
  }

  /** The last line: on a terminal ends the redrawn one, off it prints it once more. */
  finish(done: number, extra = ''): void {
    const line = this.line(done, extra);
    this.write(this.tty ? `\r${line}\n` : `${line}\n`);
  }
}
