// The bytes all IMAP connections of one server process hold in literals at once (APPEND
// bodies, LOGIN strings): a literal that would pass the budget is refused before a byte of
// it is buffered, so many clients each announcing a big APPEND cannot exhaust memory together.
import type { ImapSettings } from './settings.js';

export class LiteralBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  get heldBytes(): number {
    return this.held;
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when that would pass the limit. */
  tryReserve(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

/** One budget per IMAP section of a configuration: the IMAP and IMAPS listeners of a process share it. */
const budgets = new WeakMap<ImapSettings, LiteralBudget>();

export function literalBudgetOf(imap: ImapSettings): LiteralBudget {
  let budget = budgets.get(imap);
  if (budget === undefined) {
    budget = new LiteralBudget(imap.literalBudget);
    budgets.set(imap, budget);
  }
  return budget;
}
