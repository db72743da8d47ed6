// MAIL FROM and RCPT TO answered by the listener's session table in the call that hands
// them over (the turn the command arrived), from the directory cache, while the session
// actor is idle; whatever has to wait (a free-space reading that is too old, a user's
// quota to ask the mailbox about) goes to the session actor, which answers later with
// the same verdicts. Real directory cache, real mailbox actors on a real LevelDB.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MailboxStore } from '../../src/store/mailbox-store.js';
import { QueueStore } from '../../src/store/queue-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { MailboxRegistry } from '../../src/mailbox/registry.js';
import { start, stop } from '../../src/core/supervision.js';
import { Directory } from '../../src/directory/directory.js';
import { ConnectionLimiter } from '../../src/net/connection-limiter.js';
import { FreeSpaceGuard } from '../../src/store/free-space.js';
import { SessionTable } from '../../src/smtp/session-table.js';
import type { SmtpSessionDeps } from '../../src/smtp/session.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
const log = silentLogger();

describe('SMTP commands answered from memory', () => {
  let db: Database;
  let system: ReturnType<typeof start>;
  let registry: MailboxRegistry;
  let deps: SmtpSessionDeps;
  let directory: Directory;

  beforeAll(async () => {
    db = new Database(dir);
    await db.open();
    const blobs = new BlobStore(db);
    system = start();
    registry = new MailboxRegistry(system as Ref<unknown>, { db, blobs, mailboxes: new MailboxStore(db), log, testFaults: false }, 60_000);
    directory = new Directory(null, log, { passwordCost: 4, defaultQuota: 0 });
    const user = (address: string, quota: number) => ({ kind: 'user' as const, key: address, value: { address, passwordHash: 'x', quota, mailboxId: address.replace(/\W/g, ''), created: 0 } });
    [
      { kind: 'domain' as const, key: 'a.test', value: { name: 'a.test', created: 0 } },
      user('ann@a.test', 0), user('qui@a.test', 1_000_000),
    ].forEach((change, i) => directory.cache.apply({ ...change, seq: i + 1 } as never));
    deps = {
      db, blobs, queue: new QueueStore(db, 4), queueActor: () => { throw new Error('no DATA in this test'); },
      directory, mailboxes: registry, log, hostname: 'mx.a.test', submission: false, maxMessageSize: 1 << 20, maxRecipients: 100, maxReceivedHeaders: 30,
    };
  });
  afterAll(async () => {
    registry.close();
    stop(system);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let sessionNo = 0;
  const openSession = (table: SessionTable): SMTPServerSession => {
    const session = { id: `s${++sessionNo}`, remoteAddress: '127.0.0.1', envelope: { mailFrom: false, rcptTo: [] } } as unknown as SMTPServerSession;
    table.open(session);
    return session;
  };
  const addr = (address: string) => ({ address, args: false }) as SMTPServerAddress;
  /** Hands one command to the table: `now` is the answer if it came within the call, else 'later' (and `later` resolves with it). */
  const command = (table: SessionTable, kind: 'mailFrom' | 'rcptTo', session: SMTPServerSession, address: string) => {
    let answered: { err: Error | null } | null = null;
    let resolve!: (err: Error | null) => void;
    const later = new Promise<Error | null>((r) => (resolve = r));
    table[kind](addr(address), session, (err) => {
      answered = { err: err ?? null };
      resolve(err ?? null);
    });
    const now: Error | null | 'later' = answered === null ? 'later' : (answered as { err: Error | null }).err;
    return { now, later };
  };
  /** The next command comes with the client's next packet, in a later turn. */
  const nextTurn = () => new Promise((r) => setImmediate(r));
  const code = (err: Error | null) => (err === null ? 250 : (err as Error & { responseCode?: number }).responseCode);

  it('answers MAIL FROM and RCPT TO of known, unknown and remote recipients at once, with the usual codes', async () => {
    const table = new SessionTable(system as Ref<unknown>, { ...deps, freeSpace: new FreeSpaceGuard(dir, 0) }, new ConnectionLimiter({ perIp: 10, total: { smtp: 10 } as never }), log, 'smtp-test');
    const s = openSession(table);
    expect(command(table, 'mailFrom', s, 'x@remote.test').now).toBeNull();
    expect(command(table, 'rcptTo', s, 'ann@a.test').now).toBeNull();
    expect(code(command(table, 'rcptTo', s, 'nobody@a.test').now as Error)).toBe(550);
    expect(code(command(table, 'rcptTo', s, 'x@elsewhere.test').now as Error)).toBe(554);
    // The session's recipients are the actor's own: the limit counts the ones accepted here.
    expect(command(table, 'rcptTo', s, 'ann@a.test').now).toBeNull();
    table.close(s);
  });

  it('leaves to the session actor what has to wait: an old free-space reading, a quota to ask about', async () => {
    const guard = new FreeSpaceGuard(dir, 1);
    const table = new SessionTable(system as Ref<unknown>, { ...deps, maxRecipients: 2, freeSpace: guard }, new ConnectionLimiter({ perIp: 10, total: { smtp: 10 } as never }), log, 'smtp-test');
    const s = openSession(table);
    const first = command(table, 'mailFrom', s, 'x@remote.test');
    expect(first.now).toBe('later');
    expect(await first.later).toBeNull();
    await nextTurn();
    // The reading the actor took is fresh now: the next transaction is answered at once.
    expect(command(table, 'mailFrom', s, 'x@remote.test').now).toBeNull();
    const quota = command(table, 'rcptTo', s, 'qui@a.test');
    expect(quota.now).toBe('later');
    expect(await quota.later).toBeNull();
    await nextTurn();
    expect(command(table, 'rcptTo', s, 'ann@a.test').now).toBeNull();
    // Two accepted (maxRecipients 2): the next is refused at once.
    expect(code(command(table, 'rcptTo', s, 'ann@a.test').now as Error)).toBe(452);
    table.close(s);
  });
});
