// An in-memory Pop3Backend for protocol-layer tests: users, maildrops whose
// messages are streamed in chosen chunks (or generated lazily), a lock per
// user, and a log of commit/release calls with their order.

import type { AuthResult, Maildrop, MaildropMessage, Pop3Backend } from '../../../src/protocols/pop3/backend.js';

export interface StoredMessage {
  uid: string;
  size: number;
  chunks(): AsyncIterable<Buffer>;
  /** The whole message, for a backend that serves it from memory (Maildrop.readNow). */
  whole?: Buffer;
}

/** A message held in memory, streamed in pieces of `chunkSize` (or given split points). */
export function storedMessage(uid: string, content: Buffer | string, chunkSize = 64 * 1024): StoredMessage {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content, 'latin1');
  return {
    uid,
    size: bytes.length,
    whole: bytes,
    async *chunks() {
      for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
    },
  };
}

/** A message streamed exactly as the given chunks, to test chunk boundaries. */
export function chunkedMessage(uid: string, chunks: string[]): StoredMessage {
  const buffers = chunks.map((chunk) => Buffer.from(chunk, 'latin1'));
  return {
    uid,
    size: buffers.reduce((total, buffer) => total + buffer.length, 0),
    whole: Buffer.concat(buffers),
    async *chunks() {
      yield* buffers;
    },
  };
}

/**
 * A large message generated on the fly in 64 KiB chunks (a short header, then
 * body lines); `progress.bytesRead` counts what the server pulled.
 */
export function generatedMessage(uid: string, size: number, progress: { bytesRead: number }): StoredMessage {
  const header = Buffer.from('Subject: big\r\n\r\n');
  const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.......\r\n');
  const body = Buffer.concat(Array.from({ length: 1024 }, () => line));
  const first = Buffer.concat([header, body]).subarray(0, 64 * 1024);
  const rest = body.subarray(0, 64 * 1024);
  return {
    uid,
    size,
    async *chunks() {
      for (let sent = 0; sent < size; ) {
        const source = sent === 0 ? first : rest;
        const piece = source.subarray(0, Math.min(source.length, size - sent));
        sent += piece.length;
        progress.bytesRead += piece.length;
        yield piece;
      }
    },
  };
}

export type BackendEvent = { kind: 'commit'; userId: string; deleted: number[] } | { kind: 'release'; userId: string };

export class MemoryBackend implements Pop3Backend {
  readonly events: BackendEvent[] = [];
  readonly authCalls: Array<{ user: string; remoteAddress: string }> = [];
  private readonly users = new Map<string, { password: string; userId: string }>();
  private readonly maildrops = new Map<string, StoredMessage[]>();
  private readonly locked = new Set<string>();
  /** Set to make the next commits fail. */
  failCommits = false;
  /** Delay before a commit resolves, to observe ordering against the +OK. */
  commitDelayMs = 0;
  /** Called when a commit is about to resolve (after the delay). */
  onCommitResolving: (() => void) | undefined;
  authTemporarilyUnavailable = false;
  throwOnAuthenticate = false;
  /** Offer Maildrop.readNow: messages that have `whole` are served from memory. */
  serveFromMemory = false;
  /** How often the session pulled a message through read() and through readNow(). */
  readCalls = 0;
  readNowCalls = 0;

  addUser(user: string, password: string, messages: StoredMessage[] = []): void {
    const userId = `id-${user}`;
    this.users.set(user, { password, userId });
    this.maildrops.set(userId, messages);
  }

  messagesOf(user: string): StoredMessage[] {
    return this.maildrops.get(`id-${user}`) ?? [];
  }

  isLocked(user: string): boolean {
    return this.locked.has(`id-${user}`);
  }

  async authenticate(user: string, password: string, remoteAddress: string): Promise<AuthResult> {
    this.authCalls.push({ user, remoteAddress });
    if (this.throwOnAuthenticate) throw new Error('directory exploded');
    if (this.authTemporarilyUnavailable) return { ok: false, reason: 'temporary' };
    const account = this.users.get(user);
    if (account === undefined || account.password !== password) return { ok: false, reason: 'bad-credentials' };
    return { ok: true, userId: account.userId };
  }

  async openMaildrop(userId: string): Promise<Maildrop | 'in-use'> {
    if (this.locked.has(userId)) return 'in-use';
    this.locked.add(userId);
    const stored = this.maildrops.get(userId) ?? [];
    const messages: MaildropMessage[] = stored.map((message) => ({ uid: message.uid, size: message.size }));
    return {
      messages,
      read: (index) => {
        this.readCalls += 1;
        return stored[index]!.chunks();
      },
      ...(this.serveFromMemory ? {
        readNow: (index: number) => {
          this.readNowCalls += 1;
          return stored[index]!.whole;
        },
      } : {}),
      commit: (deleted) => this.commit(userId, deleted),
      release: async () => {
        this.events.push({ kind: 'release', userId });
        this.locked.delete(userId);
      },
    };
  }

  private async commit(userId: string, deleted: number[]): Promise<void> {
    if (this.commitDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.commitDelayMs));
    this.onCommitResolving?.();
    if (this.failCommits) throw new Error('disk full');
    this.events.push({ kind: 'commit', userId, deleted: [...deleted] });
    const remaining = (this.maildrops.get(userId) ?? []).filter((_message, index) => !deleted.includes(index));
    this.maildrops.set(userId, remaining);
    this.locked.delete(userId);
  }
}
