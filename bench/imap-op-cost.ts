// Server CPU per IMAP command kind, for a same-window A/B of two servers on copies of one
// populated data folder: one client runs N commands of a kind against A, then N against B,
// alternating for R rounds, and reads each server's CPU time from /proc around every batch;
// it prints the median per command of each side and their ratio. Alternating batches of a
// few seconds puts both sides under the same load of a shared machine, which whole runs
// minutes apart do not (issue 11, W3: docs/benchmarks.md round 12).
//   node build/bench/imap-op-cost.js --a PORT:PID --b PORT:PID [--ops uidfetch:R:N,...] [--host H] [--main-thread]
// Kinds: uidfetch (UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)), body (FETCH n (BODY.PEEK[])),
// select (SELECT INBOX again), store (STORE n +FLAGS (\Seen)), store20 (the cycle's STORE of 20),
// login (connect, LOGIN, LOGOUT), session (connect, LOGIN, SELECT INBOX, LOGOUT),
// cycle (the W3 anchor's cycle on a new connection: 25 commands, counted as one).
import { parseArgs } from 'node:util';
import { ImapClient } from './imap-client.js';
import { readFileSync } from 'node:fs';
import { cpuMs } from './process-usage.js';

interface Side {
  name: string;
  port: number;
  pid: number;
  session: ImapClient;
  perCommand: number[];
}

const KINDS = ['uidfetch', 'body', 'select', 'store', 'store20', 'login', 'session', 'cycle'];

const { values } = parseArgs({
  options: {
    a: { type: 'string' }, b: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' },
    ops: { type: 'string', default: 'uidfetch:10:40,select:10:100,body:10:300,cycle:10:10' },
    users: { type: 'string', default: '10-49' }, 'main-thread': { type: 'boolean', default: false }, password: { type: 'string', default: 'pw' }, domain: { type: 'string', default: 'example.test' },
  },
});
if (!values.a || !values.b) {
  console.log('Usage: node build/bench/imap-op-cost.js --a PORT:PID --b PORT:PID [--ops KIND:ROUNDS:N,...] [--users FIRST-LAST]');
  process.exit(2);
}
const host = values.host!;
const [firstUser, lastUser] = values.users!.split('-').map(Number) as [number, number];

function randomUser(): string {
  const n = firstUser + Math.floor(Math.random() * (lastUser - firstUser + 1));
  return `user${String(n).padStart(4, '0')}@${values.domain}`;
}

async function loggedIn(port: number): Promise<ImapClient> {
  const client = await ImapClient.connect(host, port);
  await client.ok(`LOGIN ${randomUser()} ${values.password}`);
  return client;
}

/** A random message number of the selected INBOX (the fixture's users hold the same count). */
let messages = 1;
const anyMessage = (): number => 1 + Math.floor(Math.random() * messages);

async function once(side: Side, kind: string): Promise<void> {
  const s = side.session;
  switch (kind) {
    case 'uidfetch':
      await s.ok('UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)');
      return;
    case 'body':
      await s.ok(`FETCH ${anyMessage()} (BODY.PEEK[])`);
      return;
    case 'select':
      await s.ok('SELECT INBOX');
      return;
    case 'store':
      await s.ok(`STORE ${anyMessage()} +FLAGS (\\Seen)`);
      return;
    case 'store20':
      await s.ok(`STORE ${Array.from({ length: 20 }, anyMessage).join(',')} +FLAGS (\\Seen)`);
      return;
    case 'session': {
      const c = await loggedIn(side.port);
      await c.ok('SELECT INBOX');
      await c.logout();
      return;
    }
    case 'login': {
      const c = await loggedIn(side.port);
      await c.logout();
      return;
    }
    case 'cycle': {
      const c = await loggedIn(side.port);
      await c.ok('SELECT INBOX');
      await c.ok('UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)');
      for (let i = 0; i < 20; i++) await c.ok(`FETCH ${anyMessage()} (BODY.PEEK[])`);
      await c.ok(`STORE ${Array.from({ length: 20 }, anyMessage).join(',')} +FLAGS (\\Seen)`);
      await c.logout();
      return;
    }
  }
}

/**
 * With --main-thread, only the event loop's thread (user + system, 100 ticks a second): leaves
 * out LevelDB's compaction and the thread pool, whose timing is not the command's.
 */
function serverCpuMs(pid: number): number {
  if (!values['main-thread']) return cpuMs(pid);
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function side(name: string, spec: string): Promise<Side> {
  const [port, pid] = spec.split(':').map(Number) as [number, number];
  const session = await loggedIn(port);
  const selected = await session.ok('SELECT INBOX');
  const exists = selected.untagged.map((line) => /^\* (\d+) EXISTS/.exec(line)).find((m) => m !== null);
  messages = Math.max(1, Number(exists?.[1] ?? 1));
  return { name, port, pid, session, perCommand: [] };
}

const sides = [await side('A', values.a), await side('B', values.b)];
for (const spec of values.ops!.split(',')) {
  const [kind, rounds, count] = spec.split(':') as [string, string, string];
  if (!KINDS.includes(kind)) throw new Error(`unknown kind ${kind} (${KINDS.join(', ')})`);
  for (const s of sides) {
    s.perCommand = [];
    for (let i = 0; i < 10; i++) await once(s, kind); // warm-up, not counted
  }
  for (let round = 0; round < Number(rounds); round++) {
    // A first in even rounds, B first in odd ones.
    for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
      const before = serverCpuMs(s.pid);
      for (let i = 0; i < Number(count); i++) await once(s, kind);
      s.perCommand.push((serverCpuMs(s.pid) - before) / Number(count));
    }
  }
  const [a, b] = sides.map((s) => median(s.perCommand)) as [number, number];
  console.log(`${kind.padEnd(8)} A ${a.toFixed(3)} ms  B ${b.toFixed(3)} ms  B/A ${(b / a).toFixed(2)}  ` +
    `(${rounds} rounds x ${count}; A ${sides[0]!.perCommand.map((x) => x.toFixed(2)).join(' ')}; B ${sides[1]!.perCommand.map((x) => x.toFixed(2)).join(' ')})`);
}
for (const s of sides) s.session.destroy();
process.exit(0);
