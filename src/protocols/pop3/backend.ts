// The narrow interface the POP3 protocol layer uses to reach users and mailboxes.
// The session never touches the store: it authenticates, opens one locked
// maildrop snapshot, streams message bytes from it and commits deletions at QUIT.

export type AuthResult = { ok: true; userId: string } | { ok: false; reason: 'bad-credentials' | 'temporary' };

export interface MaildropMessage { uid: string; size: number }   // size = exact octets RETR sends (before dot-stuffing)

export interface Maildrop {
  readonly messages: ReadonlyArray<MaildropMessage>;       // snapshot at open; message number = index + 1
  read(index: number): AsyncIterable<Buffer>;              // the exact stored bytes, streamed in chunks
  commit(deleted: number[]): Promise<void>;                // indexes to delete; resolves only when durably synced; also releases the lock
  release(): Promise<void>;                                // unlock without changes (connection lost, or QUIT without deletions is also fine via commit([]))
}

export interface Pop3Backend {
  authenticate(user: string, password: string, remoteAddress: string): Promise<AuthResult>;
  openMaildrop(userId: string): Promise<Maildrop | 'in-use'>;
}
