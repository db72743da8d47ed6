// W4 load: C POP3 clients, each looping for a fixed time over USER/PASS, STAT, UIDL,
// RETR of every message, QUIT, with a random user of a range. Reports msgs/s, MB/s,
// per-RETR and per-session latency and, with --pid, server CPU per message and peak RSS.
import { parseArgs } from 'node:util';
import { ErrorTally } from './error-tally.js';
import { Pop3Client } from './pop3-client.js';
import { LatencySamples, fmt } from './latency.js';
import { probeProcess, selfCpuMs } from './process-usage.js';
import { seededRandom, userAddress } from './seeded-random.js';

const usage = `Usage: node build/bench/pop3-load.js HOST PORT [options]

  --users FIRST-LAST  user range (default 51-100)
  --clients C         concurrent clients (default 50)
  --secs S            run time; sessions under way then are finished (default 30)
  --domain D          (default example.test)
  --password P        (default pw)
  --pid PID           server process: report its CPU ms per message and peak RSS
  --seed N            (default 4)`;

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      users: { type: 'string', default: '51-100' }, clients: { type: 'string', default: '50' },
      secs: { type: 'string', default: '30' }, domain: { type: 'string', default: 'example.test' },
      password: { type: 'string', default: 'pw' }, pid: { type: 'string' }, seed: { type: 'string', default: '4' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 2) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
  }
  const [first, last] = values.users!.split('-').map(Number);
  return {
    host: positionals[0], port: Number(positionals[1]), first, last, clients: Number(values.clients),
    secs: Number(values.secs), domain: values.domain!, password: values.password!,
    pid: values.pid === undefined ? undefined : Number(values.pid), seed: Number(values.seed),
  };
}

type Options = ReturnType<typeof options>;

interface Totals {
  sessions: number;
  messages: number;
  bytes: number;
  errors: ErrorTally;
}

async function oneSession(opts: Options, user: string, retr: LatencySamples): Promise<{ messages: number; bytes: number }> {
  const client = await Pop3Client.connect(opts.host, opts.port);
  try {
    await client.command(`USER ${user}`);
    await client.command(`PASS ${opts.password}`);
    const count = Number((await client.command('STAT')).split(' ')[1]);
    let bytes = await client.multiLine('UIDL');
    for (let i = 1; i <= count; i++) {
      const t = performance.now();
      bytes += await client.multiLine(`RETR ${i}`);
      retr.add(performance.now() - t);
    }
    await client.quit();
    return { messages: count, bytes };
  } catch (err) {
    client.destroy();
    throw err;
  }
}

async function main(): Promise<void> {
  const opts = options();
  const retr = new LatencySamples();
  const sessionLatency = new LatencySamples();
  const totals: Totals = { sessions: 0, messages: 0, bytes: 0, errors: new ErrorTally() };
  const probe = probeProcess(opts.pid);
  const selfBefore = selfCpuMs();
  const started = performance.now();
  const endAt = started + opts.secs * 1000;
  const client = async (id: number) => {
    const random = seededRandom(opts.seed * 1000 + id);
    while (performance.now() < endAt) {
      const user = userAddress(opts.first + Math.floor(random() * (opts.last - opts.first + 1)), opts.domain);
      const t = performance.now();
      try {
        const done = await oneSession(opts, user, retr);
        totals.sessions += 1;
        totals.messages += done.messages;
        totals.bytes += done.bytes;
        sessionLatency.add(performance.now() - t);
      } catch (err) {
        totals.errors.add(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, i) => client(i)));
  const secs = (performance.now() - started) / 1000;
  const errors = totals.errors.count;
  console.log(`pop3-load: ${opts.clients} clients, ${fmt(secs, 2)} s: ${totals.sessions} sessions (${fmt(totals.sessions / secs)}/s), ` +
    `${totals.messages} msgs (${fmt(totals.messages / secs)} msg/s), ${fmt(totals.bytes / 1e6)} MB (${fmt(totals.bytes / 1e6 / secs, 2)} MB/s), ${errors} errors`);
  totals.errors.print();
  console.log(`RETR latency: ${retr.summary()}`);
  console.log(`session latency: p50 ${fmt(sessionLatency.quantile(0.5) / 1000, 2)} s, p99 ${fmt(sessionLatency.quantile(0.99) / 1000, 2)} s`);
  console.log(`load generator CPU: ${fmt((selfCpuMs() - selfBefore) / 1000, 2)} s (${fmt((selfCpuMs() - selfBefore) / Math.max(1, totals.messages), 3)} ms/msg)`);
  const usage = probe?.finish();
  if (usage) {
    console.log(`server CPU ${fmt(usage.cpuMs / Math.max(1, totals.messages), 3)} ms/msg (${fmt(usage.cpuMs / 1000, 2)} s in all); ` +
      `peak RSS ${fmt(usage.peakRssMiB)} MiB`);
  }
}

main().catch((err: Error) => {
  console.error(`pop3-load: ${err.message}`);
  process.exit(1);
});
