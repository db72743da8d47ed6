// W1 load: N messages of S bytes over C concurrent SMTP sessions of M messages each
// (one connection per session, optionally pipelined), then waits until the store
// holds them all. Reports accept rate, DATA-end → 250 latency, end-to-end rate and,
// with --pid, the server's CPU per message and peak RSS.
import { parseArgs } from 'node:util';
import { ErrorTally } from './error-tally.js';
import { SmtpClient } from './smtp-client.js';
import { buildMessage } from './message-body.js';
import { LatencySamples, fmt } from './latency.js';
import { cpuCostOf, probeProcess, selfCpuMs } from './process-usage.js';
import { runCountCommand, waitForCount } from './store-count.js';
import { seededRandom, userAddress } from './seeded-random.js';

const usage = `Usage: node build/bench/smtp-deliver.js HOST PORT [options]

  --messages N       messages in all (default 20000)
  --size BYTES       message size (default 4096)
  --concurrency C    concurrent SMTP sessions (default 50)
  --per-session M    messages per connection (default 400)
  --rcpts R          recipients per message (default 1)
  --pipelining yes|no  use PIPELINING when offered (default yes)
  --users U          recipients are user0001..userUUUU (default 1000)
  --domain D         recipient domain (default example.test)
  --from ADDR        envelope sender (default sender@example.net)
  --count-cmd CMD    shell command printing the stored-message count (an integer,
                     or the JSON of 'ternmail stats'); waits for delivery
  --poll-ms MS       how often to run --count-cmd (default 1000)
  --timeout SECS     give up waiting for delivery after SECS (default 600)
  --pid PID          server process: report its CPU ms per message and peak RSS
  --seed N           recipient choice seed (default 1)`;

interface Options {
  host: string; port: number; messages: number; size: number; concurrency: number; perSession: number;
  rcpts: number; pipelining: boolean; users: number; domain: string; from: string;
  countCmd?: string; pollMs: number; timeoutSecs: number; pid?: number; seed: number;
}

function options(): Options {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      messages: { type: 'string', default: '20000' }, size: { type: 'string', default: '4096' },
      concurrency: { type: 'string', default: '50' }, 'per-session': { type: 'string', default: '400' },
      rcpts: { type: 'string', default: '1' }, pipelining: { type: 'string', default: 'yes' },
      users: { type: 'string', default: '1000' }, domain: { type: 'string', default: 'example.test' },
      from: { type: 'string', default: 'sender@example.net' }, 'count-cmd': { type: 'string' },
      'poll-ms': { type: 'string', default: '1000' }, timeout: { type: 'string', default: '600' },
      pid: { type: 'string' }, seed: { type: 'string', default: '1' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 2) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
  }
  return {
    host: positionals[0], port: Number(positionals[1]), messages: Number(values.messages), size: Number(values.size),
    concurrency: Number(values.concurrency), perSession: Number(values['per-session']), rcpts: Number(values.rcpts),
    pipelining: values.pipelining !== 'no', users: Number(values.users), domain: values.domain!, from: values.from!,
    countCmd: values['count-cmd'], pollMs: Number(values['poll-ms']), timeoutSecs: Number(values.timeout),
    pid: values.pid === undefined ? undefined : Number(values.pid), seed: Number(values.seed),
  };
}

interface Totals {
  accepted: number;
  recipients: number;
  failed: number;
  errors: ErrorTally;
  lastAcceptAt: number;
}

function pickRecipients(random: () => number, opts: Options): string[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(opts.rcpts, opts.users)) chosen.add(1 + Math.floor(random() * opts.users));
  return [...chosen].map((u) => userAddress(u, opts.domain));
}

async function runSession(opts: Options, sessionId: number, count: number, body: Buffer, latency: LatencySamples, totals: Totals): Promise<void> {
  const random = seededRandom(opts.seed * 1_000_003 + sessionId);
  let client: SmtpClient | null = null;
  for (let i = 0; i < count; i++) {
    const unique = Buffer.from(`X-Bench-Id: ${sessionId}.${i}\r\n`, 'latin1');
    try {
      // HOST may list several addresses (nodes of a cluster of machines): sessions take them in turn.
      client ??= await SmtpClient.connect(opts.host.split(',')[sessionId % opts.host.split(',').length], opts.port);
      const result = await client.send({ from: opts.from, to: pickRecipients(random, opts), data: Buffer.concat([unique, body]) }, opts.pipelining);
      latency.add(result.latencyMs);
      totals.accepted += 1;
      totals.recipients += result.accepted;
      totals.lastAcceptAt = performance.now();
    } catch (err) {
      totals.failed += 1;
      totals.errors.add(err);
      client?.destroy();
      client = null;
    }
  }
  await client?.quit();
}

async function main(): Promise<void> {
  const opts = options();
  const body = buildMessage({ size: opts.size, from: opts.from, subject: 'w1 load', unique: `w1-${Date.now()}` });
  const baseline = opts.countCmd ? (await runCountCommand(opts.countCmd)).messages : null;
  console.log(`smtp-deliver: ${opts.messages} msgs x ${body.length} B, ${opts.concurrency} sessions x ${opts.perSession} msgs, ` +
    `${opts.rcpts} rcpt/msg, pipelining ${opts.pipelining ? 'yes' : 'no'}, baseline count ${baseline ?? 'n/a'}`);

  const sessions: number[] = [];
  for (let left = opts.messages; left > 0; left -= opts.perSession) sessions.push(Math.min(opts.perSession, left));
  const latency = new LatencySamples();
  const totals: Totals = { accepted: 0, recipients: 0, failed: 0, errors: new ErrorTally(), lastAcceptAt: 0 };
  const probe = probeProcess(opts.pid);
  const selfBefore = selfCpuMs();
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < sessions.length) {
      const id = next++;
      await runSession(opts, id, sessions[id], body, latency, totals);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  const acceptSecs = (totals.lastAcceptAt - started) / 1000;
  const selfMs = selfCpuMs() - selfBefore;
  console.log(`accepted ${totals.accepted}/${opts.messages} msgs (${totals.recipients} rcpts) in ${fmt(acceptSecs, 2)} s: ` +
    `${fmt(totals.accepted / acceptSecs)} msg/s; ${totals.failed} failed`);
  totals.errors.print();
  console.log(`latency DATA end -> 250: ${latency.summary()}`);
  console.log(`load generator CPU: ${fmt(selfMs / Math.max(1, totals.accepted), 3)} ms/msg`);
  const atAccept = probe?.finish();
  if (atAccept) console.log(`server until last accept: ${fmt(atAccept.cpuMs / Math.max(1, totals.accepted), 3)} CPU ms/msg`);

  let polls = 0;
  if (opts.countCmd && baseline !== null) {
    const target = baseline + totals.recipients;
    const waited = await waitForCount(opts.countCmd, target, opts.pollMs, opts.timeoutSecs * 1000);
    polls = waited.polls;
    if (waited.at === null) {
      console.log(`TIMEOUT: store count ${waited.last} < ${target} after ${opts.timeoutSecs} s`);
      process.exitCode = 1;
    } else {
      const secs = (waited.at - started) / 1000;
      console.log(`all ${totals.recipients} delivered ${fmt(secs, 2)} s after start: end-to-end ${fmt(totals.recipients / secs)} msg/s ` +
        `(delivery finished ${fmt(secs - acceptSecs, 2)} s after last accept; poll every ${opts.pollMs} ms)`);
    }
  }
  const usage = probe?.finish();
  if (usage && opts.pid !== undefined) {
    const delivered = Math.max(1, totals.recipients);
    console.log(`server CPU ${fmt(usage.cpuMs / delivered, 3)} ms/msg delivered ` +
      `(${fmt(usage.cpuMs / 1000, 2)} s in all, incl. ${polls} count polls); peak RSS ${fmt(usage.peakRssMiB)} MiB`);
    if (opts.countCmd && polls > 0) {
      // A poll's cost grows with the store; its cost at the end bounds every earlier one.
      const countCmd = opts.countCmd;
      const perPoll = await cpuCostOf(opts.pid, () => runCountCommand(countCmd), 5);
      const without = Math.max(0, usage.cpuMs - polls * perPoll);
      console.log(`  one count poll now costs the server ${fmt(perPoll, 1)} CPU ms; without polling: ` +
        `between ${fmt(without / delivered, 3)} and ${fmt(usage.cpuMs / delivered, 3)} ms/msg`);
    }
  }
}

main().catch((err: Error) => {
  console.error(`smtp-deliver: ${err.message}`);
  process.exit(1);
});
