// How long the first SORT and THREAD over a large folder take right after a server start
// (issue 14: under 100 ms over 10,000 messages), and the warm ones after them. Starts its
// own server (the built CLI) on a temporary data folder, fills INBOX by MULTIAPPEND, then
// restarts the server before each first call so nothing is in memory. With --drop-keys the
// stored SORT/THREAD rows are deleted before each start: the first call then computes
// them from the messages, as a store written before the rows existed (and as before them).
//
//   node build/bench/imap-sort-first.js [--messages 10000] [--runs 3] [--port-base 43100] [--drop-keys]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Database } from '../src/store/database.js';
import { ImapClient } from './imap-client.js';
import { cpuMs } from './process-usage.js';
import { seededRandom } from './seeded-random.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    'port-base': { type: 'string', default: '43100' },
    'drop-keys': { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);
const RUNS = Number(values.runs);
const PORT_BASE = Number(values['port-base']);
const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const USER = 'sorter@sort.bench';

const QUESTIONS = {
  'SORT (SUBJECT)': 'SORT (SUBJECT) UTF-8 ALL',
  'SORT (DATE)': 'SORT (DATE) UTF-8 ALL',
  'THREAD REFERENCES': 'THREAD REFERENCES UTF-8 ALL',
  'THREAD ORDEREDSUBJECT': 'THREAD ORDEREDSUBJECT UTF-8 ALL',
};

interface Running { child: ChildProcess; exited: Promise<void> }

/** A stopped server's ports may take a moment to be free again (its worker exiting). */
async function portsFree(): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const free = await Promise.all([0, 1, 2, 3, 4].map((i) => new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(PORT_BASE + i, '127.0.0.1', () => probe.close(() => resolve(true)));
    })));
    if (free.every(Boolean)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`ports ${PORT_BASE}-${PORT_BASE + 4} stay in use`);
}

async function start(data: string): Promise<Running> {
  await portsFree();
  const ports = [0, 1, 2, 3, 4].map((i) => String(PORT_BASE + i));
  const admin = path.join(data, 'admin.json');
  const before = existsSync(admin) ? readFileSync(admin, 'utf8') : '';
  const child = spawn(process.execPath, [cliPath, 'start', '--data', data, '--smtp-port', ports[0]!, '--submission-port', ports[1]!,
    '--pop3-port', ports[2]!, '--imap-port', ports[3]!, '--admin-port', ports[4]!], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (existsSync(admin) && readFileSync(admin, 'utf8') !== before && /ternmail started/.test(output)) {
        clearInterval(poll);
        resolve({ child, exited });
      } else if (child.exitCode !== null) {
        clearInterval(poll);
        reject(new Error(`server exited: ${output}`));
      }
    }, 50);
  });
}

async function stop(server: Running): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

function cli(data: string, args: string[]): void {
  execFileSync(process.execPath, [cliPath, ...args, '--data', data], { stdio: 'ignore', env: { ...process.env, TERNMAIL_PASSWORD_COST: '10' } });
}

/** Threads of 1-6 messages: replies carry References and In-Reply-To, subjects Re:/Fwd: their root's. */
function messages(count: number): string[] {
  const random = seededRandom(14);
  const topics = ['Quarterly report', 'Lunch on Friday', 'Build broken', 'Release plan', 'Invoice 2231', 'Team offsite', 'Password reset', 'Hello'];
  const people = ['Anna Berg <anna@a.test>', 'bob@b.test', '"Chen, Li" <li@c.test>', '=?utf-8?q?Ren=C3=A9e?= <renee@d.test>', 'ops@e.test'];
  const out: string[] = [];
  let root = 0;
  let depth = 0;
  for (let i = 0; i < count; i++) {
    if (depth === 0 || random() < 0.3) {
      root = i;
      depth = 1 + Math.floor(random() * 6);
    }
    const isReply = root !== i;
    const subject = `${isReply ? (random() < 0.8 ? 'Re: ' : 'Fwd: ') : ''}${topics[root % topics.length]} #${root}`;
    const date = new Date(Date.UTC(2026, 0, 1) + i * 600_000 + Math.floor(random() * 3_600_000)).toUTCString().replace('GMT', '+0000');
    const refs = isReply ? `References: <m${root}@bench.test> <m${i - 1}@bench.test>\r\nIn-Reply-To: <m${i - 1}@bench.test>\r\n` : '';
    const body = `Line of text for message ${i}.\r\n`.repeat(20 + Math.floor(random() * 60));
    out.push(`From: ${people[Math.floor(random() * people.length)]}\r\nTo: ${people[i % people.length]}\r\nSubject: ${subject}\r\n`
      + `Date: ${date}\r\nMessage-ID: <m${i}@bench.test>\r\n${refs}\r\n${body}`);
    depth -= 1;
  }
  return out;
}

async function fill(port: number): Promise<void> {
  const client = await ImapClient.connect('127.0.0.1', port);
  await client.ok(`LOGIN ${USER} pw`);
  const all = messages(MESSAGES);
  for (let i = 0; i < all.length; i += 250) {
    const literals = all.slice(i, i + 250).map((m) => `{${Buffer.byteLength(m)}+}\r\n${m}`).join(' ');
    await client.ok(`APPEND INBOX ${literals}`);
  }
  await client.logout();
}

async function dropKeys(data: string): Promise<void> {
  const db = new Database(path.join(data, 'store'));
  await db.open();
  const ops = [];
  for await (const key of db.scanKeys('skeys', '')) ops.push({ type: 'del' as const, space: 'skeys' as const, key });
  await db.commit(ops);
  await db.close();
}

/** One fresh start: the first answer to `question` and a warm one, in ms, with the server's CPU for the first. */
async function measure(data: string, question: string): Promise<{ firstMs: number; firstCpuMs: number; warmMs: number; warmCpuMs: number }> {
  if (values['drop-keys']) await dropKeys(data);
  const server = await start(data);
  try {
    const client = await ImapClient.connect('127.0.0.1', PORT_BASE + 3);
    await client.ok(`LOGIN ${USER} pw`);
    await client.ok('EXAMINE INBOX');
    const cpuBefore = cpuMs(server.child.pid!);
    let t = performance.now();
    await client.ok(question);
    const firstMs = performance.now() - t;
    const firstCpuMs = cpuMs(server.child.pid!) - cpuBefore;
    const warmCpuBefore = cpuMs(server.child.pid!);
    t = performance.now();
    await client.ok(question);
    const warmMs = performance.now() - t;
    const warmCpuMs = cpuMs(server.child.pid!) - warmCpuBefore;
    await client.logout();
    return { firstMs, firstCpuMs, warmMs, warmCpuMs };
  } finally {
    await stop(server);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const data = mkdtempSync(path.join(os.tmpdir(), 'ternmail-sort-bench-'));
  try {
    const server = await start(data);
    cli(data, ['domain', 'add', 'sort.bench']);
    cli(data, ['user', 'add', USER, '--password', 'pw']);
    const t = performance.now();
    await fill(PORT_BASE + 3);
    console.log(`filled INBOX with ${MESSAGES} messages in ${Math.round(performance.now() - t)} ms${values['drop-keys'] ? ' (stored keys dropped before each start)' : ''}`);
    await stop(server);
    console.log(`load average: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const [name, question] of Object.entries(QUESTIONS)) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await measure(data, question));
      console.log(`${name.padEnd(22)} first ${median(runs.map((r) => r.firstMs)).toFixed(1)} ms (server CPU ${median(runs.map((r) => r.firstCpuMs)).toFixed(0)} ms)`
        + `  warm ${median(runs.map((r) => r.warmMs)).toFixed(1)} ms (server CPU ${median(runs.map((r) => r.warmCpuMs)).toFixed(0)} ms)   [medians of ${RUNS} starts]`);
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

await main();
