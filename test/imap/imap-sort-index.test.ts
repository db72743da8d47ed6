// The SORT/THREAD keys kept beside each body (src/mime/sort-keys.ts, the store's `skeys`
// rows): written when a body is stored, read after a restart to give the very same
// answers, and rebuilt from the messages for a store written before the rows existed.
// A large folder's keys are also kept as one snapshot record, read in one piece after a
// start, rewritten when the folder drifted from it, and deleted with the folder.
// The server runs as a child process so that every restart starts with empty memory.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineClient } from '../support/clients.js';
import { cli, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { tempDir } from '../support/server.js';
import { Database } from '../../src/store/database.js';
import { RawImap } from './imap-support.js';

const running = killAfterEach(afterEach);

const SUBJECTS = ['Re: plans', 'plans', 'Fwd: Lunch', 'lunch', '[team] Status', 'status (fwd)', 'Budget', 'RE: budget', 'zeta', 'Alpha'];
const SENDERS = ['"Zoe" <zoe@x.test>', 'adam@x.test', 'Mia <mia@y.test>', 'bob@z.test', '=?utf-8?q?=C3=89mile?= <emile@x.test>'];

/** 40 messages: subjects, senders, dates (some missing) and reply chains that SORT and THREAD tell apart. */
function corpus(): string[] {
  const mails: string[] = [];
  for (let i = 0; i < 40; i++) {
    const date = i % 7 === 3 ? '' : `Date: ${String(1 + (i * 5) % 27).padStart(2, '0')} Feb 2026 ${String(i % 24).padStart(2, '0')}:00:00 +0100\r\n`;
    const parent = i >= 4 && i % 3 === 0 ? `References: <m${i - 4}@x.test> <m${i - 1}@x.test>\r\nIn-Reply-To: <m${i - 1}@x.test>\r\n` : '';
    const replyOnly = i >= 4 && i % 5 === 1 ? `In-Reply-To: <m${i - 2}@x.test>\r\n` : '';
    mails.push(`From: ${SENDERS[i % SENDERS.length]}\r\nTo: t${i % 3}@x.test\r\nSubject: ${SUBJECTS[i % SUBJECTS.length]}\r\n`
      + `${date}Message-ID: <m${i}@x.test>\r\n${parent}${replyOnly}\r\nbody ${i}\r\n`);
  }
  return mails;
}

const QUESTIONS = [
  'SORT (SUBJECT) UTF-8 ALL', 'SORT (REVERSE DATE) UTF-8 ALL', 'SORT (FROM ARRIVAL) UTF-8 ALL', 'SORT (DISPLAYFROM) UTF-8 ALL',
  'SORT (TO SIZE) UTF-8 ALL', 'SORT (CC SUBJECT) UTF-8 ALL', 'UID SORT (DISPLAYTO REVERSE SUBJECT) UTF-8 ALL',
  'THREAD REFERENCES UTF-8 ALL', 'THREAD ORDEREDSUBJECT UTF-8 ALL', 'UID THREAD REFERENCES UTF-8 SINCE 5-Feb-2026',
];

async function answers(server: ServerProcess, folder = 'INBOX'): Promise<string[]> {
  const raw = new RawImap(await LineClient.connect(server.ports.imap));
  await raw.line.expect(/^\* OK .*\r\n/);
  await raw.run('LOGIN s@index.test pw');
  await raw.run(`EXAMINE ${folder}`);
  const out: string[] = [];
  for (const question of QUESTIONS) {
    const answer = await raw.run(question);
    expect(answer).toMatch(/^t\d+ OK /m);
    out.push(answer.split('\r\n').filter((line) => line.startsWith('* SORT') || line.startsWith('* THREAD')).join('\n'));
  }
  raw.close();
  return out;
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

/** The store's rows, opened while no server holds it. */
async function withStore<T>(data: string, use: (db: Database) => Promise<T>): Promise<T> {
  const db = new Database(path.join(data, 'store'));
  await db.open();
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

async function keyRows(db: Database): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of db.scanKeys('skeys', '')) keys.push(key);
  return keys.sort();
}

async function bodies(db: Database): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of db.scanKeys('blob', '')) keys.push(key);
  return keys.sort();
}

describe('SORT/THREAD keys kept beside the bodies', () => {
  it('are written at APPEND, give the same answers after a restart, and are rebuilt for a store without them', async () => {
    const data = tempDir();
    const first = await startProcess(data);
    running.push(first);
    expect((await cli(['domain', 'add', 'index.test', '--data', data])).code).toBe(0);
    expect((await cli(['user', 'add', 's@index.test', '--password', 'pw', '--data', data])).code).toBe(0);
    const raw = new RawImap(await LineClient.connect(first.ports.imap));
    await raw.line.expect(/^\* OK .*\r\n/);
    await raw.run('LOGIN s@index.test pw');
    for (const [i, mail] of corpus().entries()) {
      const date = `"${String(1 + i % 28).padStart(2, '0')}-Mar-2026 10:${String(i).padStart(2, '0')}:00 +0000"`;
      expect(await raw.run(`APPEND INBOX () ${date} {${Buffer.byteLength(mail)}+}\r\n${mail}`)).toMatch(/^t\d+ OK /m);
    }
    raw.close();
    const computed = await answers(first);
    expect(computed[0]!.split(' ').length).toBe(2 + 40);
    // Reply chains are threaded: a parent followed by its child inside one thread.
    expect(computed[7]).toMatch(/\(\d+ \d+/);
    await stop(first);

    // Every stored body got its row in the batch that stored it.
    const stored = await withStore(data, async (db) => ({ rows: await keyRows(db), bodies: await bodies(db) }));
    expect(stored.bodies.length).toBe(40);
    expect(stored.rows).toEqual(stored.bodies);

    const second = await startProcess(data);
    running.push(second);
    expect(await answers(second)).toEqual(computed);
    await stop(second);

    // A store from before the rows existed: the rows are computed again from the messages.
    await withStore(data, async (db) => db.write(stored.rows.map((key) => ({ type: 'del' as const, space: 'skeys' as const, key }))));
    expect(await withStore(data, keyRows)).toEqual([]);
    const third = await startProcess(data);
    running.push(third);
    expect(await answers(third)).toEqual(computed);
    await stop(third);
    expect(await withStore(data, keyRows)).toEqual(stored.bodies);

    const fourth = await startProcess(data);
    running.push(fourth);
    expect(await answers(fourth)).toEqual(computed);
  }, 90_000);
});

async function snapshots(data: string): Promise<string[]> {
  return withStore(data, async (db) => (await keyRows(db)).filter((key) => key.startsWith('folder:')));
}

function untaggedSort(answer: string): string[] {
  return (/^\* SORT ([^\r]*)\r/m.exec(answer)?.[1] ?? '').split(' ').filter((id) => id !== '');
}

/** How many messages each stored snapshot holds. */
async function snapshotEntries(data: string): Promise<number[]> {
  const keys = await snapshots(data);
  return withStore(data, async (db) => Promise.all(keys.map(async (key) => (JSON.parse((await db.get('skeys', key))!.toString('utf8')) as unknown[]).length)));
}

async function multiappend(server: ServerProcess, folder: string, mails: string[]): Promise<void> {
  const raw = new RawImap(await LineClient.connect(server.ports.imap));
  await raw.line.expect(/^\* OK .*\r\n/);
  await raw.run('LOGIN s@index.test pw');
  for (let i = 0; i < mails.length; i += 200) {
    const literals = mails.slice(i, i + 200).map((m) => `() {${Buffer.byteLength(m)}+}\r\n${m}`).join(' ');
    expect(await raw.run(`APPEND ${folder} ${literals}`, 20_000)).toMatch(/^t\d+ OK /m);
  }
  raw.close();
}

describe('the snapshot of a large folder\'s keys', () => {
  it('is written by the first SORT, read after a restart, rewritten after the folder grew, dropped when it shrank below 1,000, deleted with the folder', async () => {
    const data = tempDir();
    const first = await startProcess(data);
    running.push(first);
    expect((await cli(['domain', 'add', 'index.test', '--data', data])).code).toBe(0);
    expect((await cli(['user', 'add', 's@index.test', '--password', 'pw', '--data', data])).code).toBe(0);
    const raw = new RawImap(await LineClient.connect(first.ports.imap));
    await raw.line.expect(/^\* OK .*\r\n/);
    await raw.run('LOGIN s@index.test pw');
    expect(await raw.run('CREATE Big')).toMatch(/^t\d+ OK /m);
    raw.close();
    // Distinct bodies (identical ones are stored once and share their keys).
    const mails = Array.from({ length: 30 }, () => corpus()).flat().map((mail, i) => `X-Copy: ${i}\r\n${mail}`);
    await multiappend(first, 'Big', mails.slice(0, 1100));
    const computed = await answers(first, 'Big');
    expect(computed[0]!.split(' ').length).toBe(2 + 1100);
    await stop(first);
    expect(await snapshots(data)).toHaveLength(1);

    const second = await startProcess(data);
    running.push(second);
    expect(await answers(second, 'Big')).toEqual(computed);
    // More than 5 % new messages: the next start reads the old snapshot and the new rows, and writes a new one.
    await multiappend(second, 'Big', mails.slice(1100, 1200));
    const grown = await answers(second, 'Big');
    expect(grown[0]!.split(' ').length).toBe(2 + 1200);
    await stop(second);
    expect(await snapshotEntries(data)).toEqual([1100]);

    const third = await startProcess(data);
    running.push(third);
    expect(await answers(third, 'Big')).toEqual(grown);
    await stop(third);
    expect(await snapshotEntries(data)).toEqual([1200]);

    // A second large folder (COPY: the same bodies), then shrunk below the snapshot size.
    const fourth = await startProcess(data);
    running.push(fourth);
    let client = new RawImap(await LineClient.connect(fourth.ports.imap));
    await client.line.expect(/^\* OK .*\r\n/);
    await client.run('LOGIN s@index.test pw');
    await client.run('CREATE Small');
    await client.run('SELECT Big');
    expect(await client.run('COPY 1:1000 Small', 20_000)).toMatch(/^t\d+ OK /m);
    await client.run('SELECT Small');
    expect(await client.run('SORT (SUBJECT) UTF-8 ALL')).toMatch(/^t\d+ OK /m);
    await client.run('STORE 1:100 +FLAGS.SILENT (\\Deleted)');
    expect(await client.run('EXPUNGE')).toMatch(/^t\d+ OK /m);
    client.close();
    await stop(fourth);
    expect(await snapshotEntries(data)).toEqual(expect.arrayContaining([1200, 1000]));

    const fifth = await startProcess(data);
    running.push(fifth);
    client = new RawImap(await LineClient.connect(fifth.ports.imap));
    await client.line.expect(/^\* OK .*\r\n/);
    await client.run('LOGIN s@index.test pw');
    await client.run('EXAMINE Small');
    expect(untaggedSort(await client.run('SORT (SUBJECT) UTF-8 ALL'))).toHaveLength(900);
    expect(await client.run('DELETE Big')).toMatch(/^t\d+ OK /m);
    client.close();
    await stop(fifth);
    expect(await snapshots(data)).toEqual([]);
  }, 120_000);
});
