// Finds or starts the mailbox actor for a mailbox id, and stops actors that have
// been idle (no request in flight, no session holding them) for a while.
import type { Ref } from 'nact';
import { ask, spawn, stop, resetOnCrash } from './supervision.js';
import { mailboxBehaviour, type MailboxDeps } from './mailbox.js';
import type { MailboxRequest } from './mailbox-messages.js';

interface Entry {
  ref: Ref<MailboxRequest>;
  inFlight: number;
  pins: number;
  lastUsed: number;
}

export class MailboxRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly parent: Ref<unknown>,
    private readonly deps: MailboxDeps,
    private readonly idleMs: number,
  ) {
    this.sweeper = setInterval(() => this.stopIdle(), Math.max(1000, Math.floor(idleMs / 2)));
    this.sweeper.unref();
  }

  get active(): number {
    return this.entries.size;
  }

  private entry(mailboxId: string): Entry {
    let entry = this.entries.get(mailboxId);
    if (!entry) {
      const ref = spawn(this.parent, mailboxBehaviour(mailboxId, this.deps), `mailbox-${mailboxId}`, {
        onCrash: resetOnCrash(this.deps.log, `mailbox ${mailboxId}`),
      }) as Ref<MailboxRequest>;
      entry = { ref, inFlight: 0, pins: 0, lastUsed: Date.now() };
      this.entries.set(mailboxId, entry);
    }
    return entry;
  }

  /** Sends a request to the mailbox's actor and waits for its answer. */
  async ask<Res>(mailboxId: string, build: (replyTo: Ref<Res>) => MailboxRequest, timeoutMs?: number): Promise<Res> {
    const entry = this.entry(mailboxId);
    entry.inFlight += 1;
    try {
      return await ask<MailboxRequest, Res>(entry.ref, build, timeoutMs);
    } finally {
      entry.inFlight -= 1;
      entry.lastUsed = Date.now();
    }
  }

  /** Keeps the actor alive while a session holds state in it (POP3 lock, IMAP selection). */
  pin(mailboxId: string): void {
    this.entry(mailboxId).pins += 1;
  }

  unpin(mailboxId: string): void {
    const entry = this.entries.get(mailboxId);
    if (entry && entry.pins > 0) {
      entry.pins -= 1;
      entry.lastUsed = Date.now();
    }
  }

  private stopIdle(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [id, entry] of this.entries) {
      if (entry.inFlight === 0 && entry.pins === 0 && entry.lastUsed < cutoff) {
        this.entries.delete(id);
        stop(entry.ref);
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const entry of this.entries.values()) stop(entry.ref);
    this.entries.clear();
  }
}
