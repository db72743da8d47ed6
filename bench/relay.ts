// Relay load (issue 4): N messages submitted with AUTH to server A, which relays
// them over SMTP to server B, where they are stored. Prints A's accept rate (its
// 250s) and the end-to-end rate (until B has stored all N and A's queue is empty).
//   spawn mode (no HOST PORT): starts two ternmail instances on loopback, A with
//     a.test and a sender, B with b.test and --users users, routes b.test → B and
//     a.test → A, A's per-destination concurrency from --outbound-concurrency
//     (TERNMAIL_OUTBOUND_CONCURRENCY); stops both and deletes their data after.
//   external mode: HOST PORT is A's submission port; --delivered-cmd prints B's
//     stored-message count (integer or `ternmail stats` JSON), --queued-cmd prints
//     A's queue (integer or stats JSON, its "queued").
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { ErrorTally } from './error-tally.js';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { SmtpClient } from './smtp-client.js';
import { buildMessage } from './message-body.js';
import { LatencySamples, fmt } from './latency.js';
import { cpuMs, peakRssKiB, selfCpuMs } from './process-usage.js';
import { runCountCommand } from './store-count.js';
import { seededRandom, userAddress } from './seeded-random.js';

const run = promisify(execFile);
const mainJs = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const usage = `Usage: node build/bench/relay.js [HOST PORT] [options]

  --messages N          messages (default 10000)
  --size BYTES          message size (default 4096)
  --connections C       concurrent submission connections (default 50)
  --per-connection M    messages per connection before reconnecting (default 100)
  --users U             recipients user0001..userUUUU@DOMAIN at B (default 1000)
  --domain D            B's domain (default b.test)
  --user ADDR           A's submission user (default sender@a.test)
  --password P          (default pw)
  --timeout SECS        give up waiting for delivery (default 600)
  --poll-ms MS          (default 500)
  --seed N              (default 5)
spawn mode (no HOST PORT):
  --outbound-concurrency K  A's connections per destination domain (default 5)
  --port-base P         A uses P+25 (SMTP), P+587, P+110, P+143, P+80; B the same + 1000 (default 21000,
                        below Linux's ephemeral port range)
  --data DIR            data dirs DIR-a, DIR-b (default /tmp/ternmail-relay-<pid>)
  --profile-dir DIR     run A and B under node --cpu-prof, profiles written to DIR at stop
                        (named CPU.<date>.<pid>...; the pids are printed)
  --keep                leave both servers running (prints their pids and data dirs)
external mode:
  --delivered-cmd CMD   prints B's stored-message count (required)
  --queued-cmd CMD      prints A's queued recipients (optional)
  --pid-a PID, --pid-b PID  report these processes' CPU and peak RSS`;

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      messages: { type: 'string', default: '10000' }, size: { type: 'string', default: '4096' },
      connections: { type: 'string', default: '50' }, 'per-connection': { type: 'string', default: '100' },
      users: { type: 'string', default: '1000' }, domain: { type: 'string', default: 'b.test' },
      user: { type: 'string', default: 'sender@a.test' }, password: { type: 'string', default: 'pw' },
      timeout: { type: 'string', default: '600' }, 'poll-ms': { type: 'string', default: '500' }, seed: { type: 'string', default: '5' },
      'outbound-concurrency': { type: 'string', default: '5' }, 'port-base': { type: 'string', default: '21000' },
      data: { type: 'string' }, 'profile-dir': { type: 'string' }, keep: { type: 'boolean' },
      'delivered-cmd': { type: 'string' }, 'queued-cmd': { type: 'string' }, 'pid-a': { type: 'string' }, 'pid-b': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const external = positionals.length === 2;
  if (values.help || (positionals.length !== 0 && !external) || (external && !values['delivered-cmd'])) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  return {
    external, host: external ? positionals[0] : '127.0.0.1', port: external ? Number(positionals[1]) : 0,
    messages: Number(values.messages), size: Number(values.size), connections: Number(values.connections),
    perConnection: Number(values['per-connection']), users: Number(values.users), domain: values.domain!,
    user: values.user!, password: values.password!, timeoutSecs: Number(values.timeout), pollMs: Number(values['poll-ms']),
    seed: Number(values.seed), outboundConcurrency: Number(values['outbound-concurrency']), portBase: Number(values['port-base']),
    data: values.data ?? `/tmp/ternmail-relay-${process.pid}`, profileDir: values['profile-dir'], keep: values.keep ?? false,
    deliveredCmd: values['delivered-cmd'], queuedCmd: values['queued-cmd'], pidA: num(values['pid-a']), pidB: num(values['pid-b']),
  };
}

type Options = ReturnType<typeof options>;

interface Ports { smtp: number; submission: number; pop3: number; imap: number; admin: number }

function portsFrom(base: number): Ports {
  return { smtp: base + 25, submission: base + 587, pop3: base + 110, imap: base + 143, admin: base + 80 };
}

/** One ternmail started by this tool: its process, data dir and admin API. */
class Instance {
  private admin: { url: string; token: string } | null = null;

  private constructor(readonly name: string, readonly dir: string, readonly ports: Ports, readonly child: ChildProcess) {}

  static async start(name: string, dir: string, ports: Ports, env: NodeJS.ProcessEnv, nodeFlags: string[]): Promise<Instance> {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const args = [...nodeFlags, mainJs, 'start', '--data', dir, '--smtp-port', String(ports.smtp), '--submission-port', String(ports.submission),
      '--pop3-port', String(ports.pop3), '--imap-port', String(ports.imap), '--admin-port', String(ports.admin), '--log-level', 'warn'];
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
    const instance = new Instance(name, dir, ports, child);
    const adminFile = path.join(dir, 'admin.json');
    for (let i = 0; i < 200 && !existsSync(adminFile); i++) {
      if (child.exitCode !== null) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`${name} exited with ${child.exitCode} while starting`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!existsSync(adminFile)) {
      await instance.stop();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${name} did not write ${adminFile} within 20 s`);
    }
    instance.admin = JSON.parse(readFileSync(adminFile, 'utf8')) as { url: string; token: string };
    return instance;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async cli(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [mainJs, ...args, '--data', this.dir]);
    return stdout.trim();
  }

  async stats(): Promise<{ messages: number; queued: number }> {
    const res = await fetch(`${this.admin!.url}/v1/stats`, { headers: { authorization: `Bearer ${this.admin!.token}` } });
    if (!res.ok) throw new Error(`${this.name} stats: HTTP ${res.status}`);
    return (await res.json()) as { messages: number; queued: number };
  }

  /** SIGINT, then SIGKILL after 30 s; resolves with the seconds shutdown took. */
  async stop(): Promise<number> {
    const t = performance.now();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGINT');
      const timer = setTimeout(() => {
        console.log(`${this.name} did not stop within 30 s of SIGINT: killed`);
        this.child.kill('SIGKILL');
      }, 30_000);
      await exited;
      clearTimeout(timer);
    }
    return (performance.now() - t) / 1000;
  }
}

interface Pair {
  a: Instance;
  b: Instance;
}

/** Every instance started, so that a failure half-way still stops and removes them all. */
const started: Instance[] = [];

async function stopAll(keep: boolean): Promise<void> {
  const all = started.splice(0);
  if (keep) return;
  const times = await Promise.all(all.map((i) => i.stop()));
  if (times.length > 0) console.log(`stopped ${all.map((inst, n) => `${inst.name} in ${fmt(times[n], 2)} s`).join(', ')}`);
  for (const i of all) rmSync(i.dir, { recursive: true, force: true });
}

async function startPair(opts: Options): Promise<Pair> {
  const startedAt = performance.now();
  const aPorts = portsFrom(opts.portBase);
  const bPorts = portsFrom(opts.portBase + 1000);
  const profile = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const startOne = async (name: string, dir: string, ports: Ports, env: NodeJS.ProcessEnv, flags: string[]) => {
    const instance = await Instance.start(name, dir, ports, env, flags);
    started.push(instance);
    return instance;
  };
  const a = await startOne('A', `${opts.data}-a`, aPorts, { TERNMAIL_OUTBOUND_CONCURRENCY: String(opts.outboundConcurrency) }, profile);
  const b = await startOne('B', `${opts.data}-b`, bPorts, {}, profile);
  const senderDomain = opts.user.split('@')[1];
  await a.cli('domain', 'add', senderDomain);
  const aUsers = path.join(a.dir + '.users');
  writeFileSync(aUsers, `${opts.user} ${opts.password}\n`);
  await a.cli('user', 'import', aUsers);
  await b.cli('domain', 'add', opts.domain);
  const bUsers = path.join(b.dir + '.users');
  writeFileSync(bUsers, Array.from({ length: opts.users }, (_, i) => `${userAddress(i + 1, opts.domain)} ${opts.password}\n`).join(''));
  await b.cli('user', 'import', bUsers);
  rmSync(aUsers);
  rmSync(bUsers);
  await a.cli('route', 'add', opts.domain, `127.0.0.1:${bPorts.smtp}`);
  await b.cli('route', 'add', senderDomain, `127.0.0.1:${aPorts.smtp}`);
  console.log(`A: pid ${a.pid}, submission 127.0.0.1:${aPorts.submission}, data ${a.dir}, outbound concurrency ${opts.outboundConcurrency}` +
    `${opts.profileDir ? `, profiling to ${opts.profileDir}` : ''}`);
  console.log(`B: pid ${b.pid}, SMTP 127.0.0.1:${bPorts.smtp}, data ${b.dir}, ${opts.users} users of ${opts.domain}`);
  console.log(`submitting starts ${fmt(performance.now() - startedAt, 1)} ms after A was started (profile offset)`);
  return { a, b };
}

interface Progress {
  delivered: () => Promise<number>;
  queued: (() => Promise<number>) | null;
}

function progressOf(opts: Options, pair: Pair | null): Progress {
  if (pair) return { delivered: async () => (await pair.b.stats()).messages, queued: async () => (await pair.a.stats()).queued };
  const queuedCmd = opts.queuedCmd;
  return {
    delivered: async () => (await runCountCommand(opts.deliveredCmd!)).messages,
    queued: queuedCmd ? async () => queuedOf(await runCountText(queuedCmd)) : null,
  };
}

async function runCountText(command: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', command]);
  return stdout.trim();
}

function queuedOf(text: string): number {
  if (text.startsWith('{')) return (JSON.parse(text) as { queued: number }).queued;
  return Number(text.split(/\s+/)[0]);
}

interface Totals { accepted: number; failed: number; errors: ErrorTally; lastAcceptAt: number }

async function submitAll(opts: Options, totals: Totals, latency: LatencySamples, started: number): Promise<void> {
  const body = buildMessage({ size: opts.size, from: opts.user, subject: 'relay load', unique: `relay-${Date.now()}` });
  let next = 0;
  const lane = async (laneId: number) => {
    const random = seededRandom(opts.seed * 1_000_003 + laneId);
    let client: SmtpClient | null = null;
    let sentOnConnection = 0;
    while (next < opts.messages) {
      const id = next++;
      try {
        if (client && sentOnConnection >= opts.perConnection) {
          await client.quit();
          client = null;
        }
        if (!client) {
          client = await SmtpClient.connect(opts.host, opts.port, 'client.a.test', { user: opts.user, password: opts.password });
          sentOnConnection = 0;
        }
        const to = userAddress(1 + Math.floor(random() * opts.users), opts.domain);
        const unique = Buffer.from(`X-Bench-Id: relay.${id}\r\n`, 'latin1');
        const result = await client.send({ from: opts.user, to: [to], data: Buffer.concat([unique, body]) }, true);
        sentOnConnection += 1;
        latency.add(result.latencyMs);
        totals.accepted += 1;
        totals.lastAcceptAt = performance.now() - started;
      } catch (err) {
        totals.failed += 1;
        totals.errors.add(err);
        client?.destroy();
        client = null;
      }
    }
    await client?.quit();
  };
  await Promise.all(Array.from({ length: opts.connections }, (_, i) => lane(i)));
}

function describeProcess(name: string, pid: number | undefined, cpuBefore: number | null, messages: number): string | null {
  if (pid === undefined || cpuBefore === null) return null;
  const used = cpuMs(pid) - cpuBefore;
  return `${name}: ${fmt(used / 1000, 2)} s CPU = ${fmt(used / Math.max(1, messages), 3)} ms/msg; peak RSS ${fmt(peakRssKiB(pid) / 1024)} MiB`;
}

async function measure(opts: Options, pair: Pair | null): Promise<void> {
  const progress = progressOf(opts, pair);
  const baseline = await progress.delivered();
  const pidA = pair?.a.pid ?? opts.pidA;
  const pidB = pair?.b.pid ?? opts.pidB;
  const cpuA = pidA === undefined ? null : cpuMs(pidA);
  const cpuB = pidB === undefined ? null : cpuMs(pidB);
  console.log(`relay: ${opts.messages} msgs x ${opts.size} B over ${opts.connections} AUTH submission connections ` +
    `(${opts.perConnection} msgs each) to ${opts.host}:${opts.port}, rcpts user0001..user${String(opts.users).padStart(4, '0')}@${opts.domain}; ` +
    `B baseline ${baseline}`);

  const totals: Totals = { accepted: 0, failed: 0, errors: new ErrorTally(), lastAcceptAt: 0 };
  const latency = new LatencySamples();
  const selfBefore = selfCpuMs();
  const started = performance.now();
  let peakQueued = 0;
  let polling = true;
  // Sample A's queue while submitting: how far delivery falls behind acceptance.
  const sampler = (async () => {
    while (polling && progress.queued) {
      peakQueued = Math.max(peakQueued, await progress.queued());
      await new Promise((r) => setTimeout(r, opts.pollMs));
    }
  })();
  await submitAll(opts, totals, latency, started);
  const acceptSecs = totals.lastAcceptAt / 1000;
  console.log(`accepted ${totals.accepted}/${opts.messages} in ${fmt(acceptSecs, 2)} s: ${fmt(totals.accepted / acceptSecs)} msg/s (A's 250s); ${totals.failed} failed`);
  totals.errors.print();
  console.log(`latency DATA end -> 250 at A: ${latency.summary()}`);
  console.log(`load generator CPU: ${fmt((selfCpuMs() - selfBefore) / Math.max(1, totals.accepted), 3)} ms/msg`);

  const target = baseline + totals.accepted;
  const deadline = started + opts.timeoutSecs * 1000;
  let delivered = -1;
  let queued = -1;
  let deliveredAt: number | null = null;
  while (performance.now() < deadline) {
    delivered = await progress.delivered();
    queued = progress.queued ? await progress.queued() : 0;
    peakQueued = Math.max(peakQueued, queued);
    if (delivered >= target && queued === 0) {
      deliveredAt = performance.now();
      break;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
  polling = false;
  await sampler;
  if (deliveredAt === null) {
    console.log(`TIMEOUT after ${opts.timeoutSecs} s: B stored ${delivered - baseline}/${totals.accepted}, A still queues ${queued}`);
    process.exitCode = 1;
  } else {
    const secs = (deliveredAt - started) / 1000;
    console.log(`all ${totals.accepted} stored at B and A's queue empty ${fmt(secs, 2)} s after start: end-to-end ${fmt(totals.accepted / secs)} msg/s ` +
      `(${fmt(secs - acceptSecs, 2)} s after the last accept; poll every ${opts.pollMs} ms)`);
  }
  if (progress.queued) console.log(`A's queue peaked at >= ${peakQueued} recipients (sampled every ${opts.pollMs} ms)`);
  for (const line of [describeProcess('server A', pidA, cpuA, totals.accepted), describeProcess('server B', pidB, cpuB, totals.accepted)]) {
    if (line) console.log(line);
  }
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.external) {
    await measure(opts, null);
    return;
  }
  process.once('SIGINT', () => void stopAll(false).then(() => process.exit(130)));
  try {
    const pair = await startPair(opts);
    opts.port = pair.a.ports.submission;
    await measure(opts, pair);
  } finally {
    await stopAll(opts.keep);
  }
}

main().catch((err: Error) => {
  console.error(`relay: ${err.message}`);
  process.exit(1);
});
