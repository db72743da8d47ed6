// The TRANSACTION-state view of one maildrop: message numbers, deletion marks,
// and the answers of STAT, LIST and UIDL. Deletions stay marks until QUIT
// hands them to Maildrop.commit. Pure apart from holding the snapshot.

import type { MaildropMessage } from './backend.js';

/**
 * UIDL answers kept per listing. The listener hands every session of an unchanged maildrop
 * the same listing array, and a client that polls asks for the whole list each time.
 */
const wholeUidlAnswers = new WeakMap<ReadonlyArray<MaildropMessage>, string>();

export type MessageLookup = { ok: true; index: number; message: MaildropMessage } | { ok: false; error: string };

export class MaildropView {
  private readonly deleted = new Set<number>();

  constructor(private readonly messages: ReadonlyArray<MaildropMessage>) {}

  /** Resolves a 1-based message number that is in range and not marked deleted. */
  lookup(messageNumber: number): MessageLookup {
    if (messageNumber < 1 || messageNumber > this.messages.length) {
      return { ok: false, error: `no such message, only ${this.messages.length} messages in maildrop` };
    }
    const index = messageNumber - 1;
    if (this.deleted.has(index)) return { ok: false, error: `message ${messageNumber} already deleted` };
    return { ok: true, index, message: this.messages[index]! };
  }

  markDeleted(index: number): void {
    this.deleted.add(index);
  }

  unmarkAll(): void {
    this.deleted.clear();
  }

  /** Indexes marked for deletion, ascending: what QUIT commits. */
  deletedIndexes(): number[] {
    return [...this.deleted].sort((a, b) => a - b);
  }

  /** Count and total octets of the messages not marked deleted. */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    this.forEachLive((_number, message) => {
      count += 1;
      octets += message.size;
    });
    return { count, octets };
  }

  /** "n size" for each message not marked deleted. */
  scanListing(): string[] {
    const lines: string[] = [];
    this.forEachLive((number, message) => lines.push(`${number} ${message.size}`));
    return lines;
  }

  /** "n uid" for each message not marked deleted. */
  uidListing(): string[] {
    const lines: string[] = [];
    this.forEachLive((number, message) => lines.push(`${number} ${message.uid}`));
    return lines;
  }

  /** The whole UIDL answer, rendered by `render` once per listing while no message is marked deleted. */
  uidlAnswer(render: (lines: string[]) => string): string {
    if (this.deleted.size > 0) return render(this.uidListing());
    let answer = wholeUidlAnswers.get(this.messages);
    if (answer === undefined) {
      answer = render(this.uidListing());
      wholeUidlAnswers.set(this.messages, answer);
    }
    return answer;
  }

  private forEachLive(visit: (messageNumber: number, message: MaildropMessage) => void): void {
    this.messages.forEach((message, index) => {
      if (!this.deleted.has(index)) visit(index + 1, message);
    });
  }
}
