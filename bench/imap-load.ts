// W3 / W5 load for any IMAP server, over raw sockets.
//   cycle mode (W3): C clients loop for a fixed time over LOGIN, SELECT INBOX,
//     UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE), 20 x FETCH n (BODY.PEEK[]),
//     one STORE of 20 random messages +FLAGS (\Seen), LOGOUT (the anchor's
//     imap-load.py sequence); prints commands/s and p50/p99 per command.
//   idle mode (W5): K connections LOGIN, SELECT INBOX and IDLE; prints the login
//     rate, the server's RSS/PSS (--pid) before and with all K idling, then
//     delivers messages over SMTP to idling users and times the EXISTS they see.
import { readdirSync, readFileSync } from 'node:fs';
import { ErrorTally } from './error-tally.js';
import { parseArgs } from 'node:util';
import { ImapClient, quote } from './imap-client.js';
import { SmtpClient } from './smtp-client.js';
import { buildMessage } from './message-body.js';
import { LatencySamples, fmt } from './latency.js';
import { probeProcess, selfCpuMs } from './process-usage.js';
import { seededRandom, userAddress } from './seeded-random.js';

const usage = `Usage: node build/bench/imap-load.js HOST PORT [options]

cycle mode (default, W3):
  --users FIRST-LAST  user range (default 1-50)
  --clients C         concurrent clients (default 50)
  --secs S            run time; cycles under way then are finished (default 30)
  --fetches N         BODY.PEEK[] fetches per cycle, one command each (default 20)
  --stores N          messages in the one STORE +FLAGS per cycle (default 20)
idle mode (W5):
  --mode idle
  --conns K           connections to hold in IDLE (default 5000)
  --users U           connection i logs in as user (1 + i mod U) (default 1000)
  --inflight N        concurrent logins while ramping up (default 50)
  --hold S            seconds to stay idle before measuring memory (default 10)
  --smtp-port P       deliver --probes messages to idling users over SMTP on P and
                      time their EXISTS (default: no delivery check)
  --smtp-host H       (default: HOST)
  --probes N          (default 20)
both:
  --domain D  (default example.test)  --password P (default pw)  --seed N (default 6)
  --pid PID           server process: CPU per command (cycle), RSS/PSS of it and its
                      children (idle)`;

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      mode: { type: 'string', default: 'cycle' }, users: { type: 'string' }, clients: { type: 'string', default: '50' },
      secs: { type: 'string', default: '30' }, fetches: { type: 'string', default: '20' }, stores: { type: 'string', default: '20' },
      conns: { type: 'string', default: '5000' }, inflight: { type: 'string', default: '50' }, hold: { type: 'string', default: '10' },
      'smtp-port': { type: 'string' }, 'smtp-host': { type: 'string' }, probes: { type: 'string', default: '20' },
      domain: { type: 'string', default: 'example.test' }, password: { type: 'string', default: 'pw' },
      seed: { type: 'string', default: '6' }, pid: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 2 || !['cycle', 'idle'].includes(values.mode!)) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
  }
  const idle = values.mode === 'idle';
  const users = values.users ?? (idle ? '1000' : '1-50');
  const [first, last] = users.includes('-') ? users.split('-').map(Number) : [1, Number(users)];
  return {
    host: positionals[0], port: Number(positionals[1]), idle, first, last,
    clients: Number(values.clients), secs: Number(values.secs), fetches: Number(values.fetches), stores: Number(values.stores),
    conns: Number(values.conns), inflight: Number(values.inflight), holdSecs: Number(values.hold),
    smtpPort: values['smtp-port'] === undefined ? undefined : Number(values['smtp-port']),
    smtpHost: values['smtp-host'] ?? positionals[0], probes: Number(values.probes),
    domain: values.domain!, password: values.password!, seed: Number(values.seed),
    pid: values.pid === undefined ? undefined : Number(values.pid),
  };
}

type Options = ReturnType<typeof options>;

const COMMANDS = ['CONNECT', 'LOGIN', 'SELECT', 'UID FETCH 1:*', 'FETCH BODY.PEEK[]', 'STORE +FLAGS', 'LOGOUT'] as const;
type CommandName = (typeof COMMANDS)[number];

class Timings {
  readonly samples = new Map<CommandName, LatencySamples>(COMMANDS.map((c) => [c, new LatencySamples()]));

  async time<T>(name: CommandName, action: () => Promise<T>): Promise<T> {
    const t = performance.now();
    const result = await action();
    this.samples.get(name)!.add(performance.now() - t);
    return result;
  }

  /** Commands sent, CONNECT (no command) left out, as the anchor counts them. */
  get commands(): number {
    let n = 0;
    for (const [name, s] of this.samples) if (name !== 'CONNECT') n += s.count;
    return n;
  }
}

interface CycleTotals {
  cycles: number;
  bodyBytes: number;
  errors: ErrorTally;
}

function randomSequence(random: () => number, exists: number): number {
  return 1 + Math.floor(random() * exists);
}

async function oneCycle(opts: Options, random: () => number, timings: Timings, totals: CycleTotals): Promise<void> {
  const user = userAddress(opts.first + Math.floor(random() * (opts.last - opts.first + 1)), opts.domain);
  // HOST may list several addresses (nodes of a cluster of machines): each cycle picks one.
  const hosts = opts.host.split(',');
  const host = hosts.length === 1 ? hosts[0] : hosts[Math.floor(random() * hosts.length)];
  const client = await timings.time('CONNECT', () => ImapClient.connect(host, opts.port));
  try {
    await timings.time('LOGIN', () => client.ok(`LOGIN ${quote(user)} ${quote(opts.password)}`));
    const selected = await timings.time('SELECT', () => client.ok('SELECT INBOX'));
    const existsLine = selected.untagged.find((r) => / EXISTS$/i.test(r));
    const exists = existsLine ? Number(existsLine.split(' ')[1]) : 0;
    await timings.time('UID FETCH 1:*', () => client.ok('UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)'));
    if (exists > 0) {
      for (let i = 0; i < opts.fetches; i++) {
        const fetched = await timings.time('FETCH BODY.PEEK[]', () => client.ok(`FETCH ${randomSequence(random, exists)} (BODY.PEEK[])`));
        totals.bodyBytes += fetched.bytes;
      }
      const set = Array.from({ length: opts.stores }, () => randomSequence(random, exists)).join(',');
      await timings.time('STORE +FLAGS', () => client.ok(`STORE ${set} +FLAGS (\\Seen)`));
    }
    await timings.time('LOGOUT', () => client.logout());
    totals.cycles += 1;
  } catch (err) {
    client.destroy();
    throw err;
  }
}

async function runCycles(opts: Options): Promise<void> {
  const timings = new Timings();
  const totals: CycleTotals = { cycles: 0, bodyBytes: 0, errors: new ErrorTally() };
  const probe = probeProcess(opts.pid);
  const selfBefore = selfCpuMs();
  const started = performance.now();
  const endAt = started + opts.secs * 1000;
  const client = async (id: number) => {
    const random = seededRandom(opts.seed * 1000 + id);
    while (performance.now() < endAt) {
      try {
        await oneCycle(opts, random, timings, totals);
      } catch (err) {
        totals.errors.add(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, i) => client(i)));
  const secs = (performance.now() - started) / 1000;
  const errors = totals.errors.count;
  const commands = timings.commands;
  console.log(`imap-load: ${opts.clients} clients, ${fmt(secs, 2)} s (incl. finishing cycles): ${totals.cycles} cycles, ${errors} errors, ` +
    `${commands} commands = ${fmt(commands / secs)} commands/s`);
  totals.errors.print();
  for (const [name, s] of timings.samples) {
    if (s.count === 0) continue;
    console.log(`  ${name.padEnd(18)} ${String(s.count).padStart(7)} ${fmt(s.count / secs).padStart(9)}/s  ` +
      `p50 ${fmt(s.quantile(0.5), 2).padStart(8)} ms  p99 ${fmt(s.quantile(0.99), 2).padStart(8)} ms`);
  }
  const bodies = timings.samples.get('FETCH BODY.PEEK[]')!.count;
  console.log(`BODY.PEEK[]: ${fmt(bodies / secs)} msg/s, ${fmt(totals.bodyBytes / 1e6 / secs, 2)} MB/s`);
  const selfMs = selfCpuMs() - selfBefore;
  console.log(`load generator CPU: ${fmt(selfMs / 1000, 2)} s (${fmt(selfMs / Math.max(1, commands), 3)} ms/command)`);
  const used = probe?.finish();
  if (used) {
    console.log(`server CPU ${fmt(used.cpuMs / Math.max(1, commands), 3)} ms/command (${fmt(used.cpuMs / 1000, 2)} s in all, ` +
      `${fmt((100 * used.cpuMs) / 1000 / secs)} % of one core); peak RSS ${fmt(used.peakRssMiB)} MiB`);
  }
}

/** The pid and all its descendants (a multi-process server is measured as a whole). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // The process ended while we listed /proc: it no longer counts.
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** RSS and PSS in KiB summed over the process tree. */
function memoryKiB(pid: number): { processes: number; rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    try {
      rss += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      processes += 1;
    } catch {
      // Gone or not ours to read: left out of the sum.
    }
  }
  return { processes, rss, pss };
}

function describeMemory(label: string, m: { processes: number; rss: number; pss: number }): string {
  return `${label}: ${m.processes} process(es), RSS ${fmt(m.rss / 1024)} MiB, PSS ${fmt(m.pss / 1024)} MiB`;
}

interface Idler {
  user: string;
  client: ImapClient;
  tag: string;
  /** Called with each response the server sends while idling. */
  seen: string[];
  notify: (() => void) | null;
}

async function openIdler(opts: Options, user: string): Promise<Idler> {
  const client = await ImapClient.connect(opts.host, opts.port);
  try {
    await client.ok(`LOGIN ${quote(user)} ${quote(opts.password)}`);
    await client.ok('SELECT INBOX');
    const tag = await client.idle();
    const idler: Idler = { user, client, tag, seen: [], notify: null };
    client.onUnsolicited = (response) => {
      idler.seen.push(response);
      idler.notify?.();
    };
    return idler;
  } catch (err) {
    client.destroy();
    throw err;
  }
}

/** Resolves with the time (performance.now()) the idler saw an EXISTS, or null after timeoutMs. */
function waitForExists(idler: Idler, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const check = () => {
      if (!idler.seen.some((r) => / EXISTS$/i.test(r))) return false;
      clearTimeout(timer);
      idler.notify = null;
      resolve(performance.now());
      return true;
    };
    const timer = setTimeout(() => {
      idler.notify = null;
      resolve(null);
    }, timeoutMs);
    idler.notify = () => void check();
    check();
  });
}

async function probeDeliveries(opts: Options, idlers: Idler[]): Promise<void> {
  const byUser = new Map<string, Idler[]>();
  for (const i of idlers) byUser.set(i.user, [...(byUser.get(i.user) ?? []), i]);
  const random = seededRandom(opts.seed);
  const users = [...byUser.keys()].sort(() => random() - 0.5).slice(0, opts.probes);
  const fromSend = new LatencySamples();
  const from250 = new LatencySamples();
  let missed = 0;
  let late = 0;
  const smtp = await SmtpClient.connect(opts.smtpHost, opts.smtpPort!);
  for (const user of users) {
    const watchers = byUser.get(user)!;
    for (const w of watchers) w.seen.length = 0;
    const body = buildMessage({ size: 2048, from: 'idle-probe@example.net', subject: 'w5 probe', unique: `w5-${Date.now()}-${user}` });
    const sent = performance.now();
    const waits = watchers.map((w) => waitForExists(w, 5000));
    await smtp.send({ from: 'idle-probe@example.net', to: [user], data: body }, true);
    const acknowledged = performance.now();
    const results = await Promise.all(waits);
    if (results.includes(null)) {
      missed += 1;
      continue;
    }
    const slowest = Math.max(...(results as number[]));
    fromSend.add(slowest - sent);
    // Negative when the EXISTS arrived before the 250 did.
    from250.add(slowest - acknowledged);
    if (slowest - sent > 1000) late += 1;
  }
  await smtp.quit();
  console.log(`delivery to idling mailboxes: ${users.length} messages, each watched by all of its user's idling connections ` +
    `(${fmt(idlers.length / Math.max(1, byUser.size))} per user): ${missed} with an EXISTS missing after 5 s, ${late} later than 1 s`);
  console.log(`  slowest connection's EXISTS after MAIL FROM was sent: ${fromSend.summary()}`);
  console.log(`  ... after the server's 250 to the end of DATA arrived (< 0: EXISTS came first): ${from250.summary()}`);
}

async function runIdle(opts: Options): Promise<void> {
  const baseline = opts.pid === undefined ? null : memoryKiB(opts.pid);
  if (baseline) console.log(describeMemory('baseline', baseline));
  const users = opts.last - opts.first + 1;
  const idlers: Idler[] = [];
  const errors = new ErrorTally();
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < opts.conns) {
      const i = next++;
      try {
        idlers.push(await openIdler(opts, userAddress(opts.first + (i % users), opts.domain)));
      } catch (err) {
        errors.add(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.inflight, opts.conns) }, lane));
  const secs = (performance.now() - started) / 1000;
  console.log(`${idlers.length}/${opts.conns} connections idling after ${fmt(secs, 2)} s (${fmt(idlers.length / secs)} logins/s, ` +
    `${opts.inflight} in flight); ${errors.count} errors`);
  errors.print();
  await new Promise((r) => setTimeout(r, opts.holdSecs * 1000));
  if (opts.pid !== undefined && baseline) {
    const now = memoryKiB(opts.pid);
    console.log(describeMemory(`at ${idlers.length} idle`, now) +
      `; per connection above baseline: RSS ${fmt((now.rss - baseline.rss) / Math.max(1, idlers.length))} KiB, ` +
      `PSS ${fmt((now.pss - baseline.pss) / Math.max(1, idlers.length))} KiB`);
  }
  if (opts.smtpPort !== undefined && idlers.length > 0) await probeDeliveries(opts, idlers);
  const sample = idlers.slice(0, 20);
  let alive = 0;
  for (const i of sample) {
    try {
      const line = await Promise.race([i.client.done(i.tag), new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
      if (/^\S+ OK/.test(line)) alive += 1;
    } catch {
      // Counted as not alive.
    }
  }
  console.log(`sample DONE check: ${alive}/${sample.length} answered OK`);
  for (const i of idlers) i.client.destroy();
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.idle) await runIdle(opts);
  else await runCycles(opts);
}

main().catch((err: Error) => {
  console.error(`imap-load: ${err.message}`);
  process.exit(1);
});
