// The narrow interface the POP3 protocol layer uses to reach users and mailboxes.
// The session never touches the store: it authenticates, opens one locked
// maildrop snapshot, streams message bytes from it and commits deletions at QUIT.
import type net from 'node:net';

/** `locked`: too many failed logins (from the address or for the account); the password was not checked. */
export type AuthResult = { ok: true; userId: string } | { ok: false; reason: 'bad-credentials' | 'temporary' | 'locked' };

export interface MaildropMessage { uid: string; size: number }   // size = exact octets RETR sends (before dot-stuffing)

export interface Maildrop {
  readonly messages: ReadonlyArray<MaildropMessage>;       // snapshot at open; message number = index + 1
  read(index: number): AsyncIterable<Buffer>;              // the exact stored bytes, streamed in chunks
  /** The whole message when it is in memory now (no I/O, no waiting); undefined: use read(). */
  readNow?(index: number): Buffer | undefined;
  commit(deleted: number[]): Promise<void>;                // indexes to delete; resolves only when durably synced; also releases the lock
  release(): Promise<void>;                                // unlock without changes (connection lost, or QUIT without deletions is also fine via commit([]))
}

/** A logged-in plain connection whose maildrop is not open yet. */
export interface Pop3Connection {
  socket: net.Socket;
  remoteAddress: string;
  /** Command bytes received and not processed (pipelined); null when they cannot be passed on. */
  unread(): Buffer | null;
}

export interface Pop3Backend {
  authenticate(user: string, password: string, remoteAddress: string): Promise<AuthResult>;
  openMaildrop(userId: string): Promise<Maildrop | 'in-use'>;
  /**
   * Optional, after login: passes the connection to another process that holds the
   * user's maildrop, or relays it to the node that holds it. `moved` when that process
   * now serves it, `relayed` when its bytes now go to that node (either way this session
   * ends without writing; a relayed socket is left open); false to go on here.
   */
  handOff?(userId: string, connection: Pop3Connection): Promise<false | 'moved' | 'relayed'>;
}
