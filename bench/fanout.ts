// W2 load: one message of S bytes to R distinct recipients in one SMTP transaction,
// repeated K times (C connections, default one), then waits until all R*K copies
// are stored. Reports deliveries/s and how much the store grew per message, from a
// --du-cmd (bytes) or the blobBytes of `ternmail stats`.
import { execSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { SmtpClient } from './smtp-client.js';
import { buildMessage } from './message-body.js';
import { LatencySamples, fmt } from './latency.js';
import { cpuCostOf, probeProcess } from './process-usage.js';
import { runCountCommand, waitForCount, type StoreFigures } from './store-count.js';
import { seededRandom, userAddress } from './seeded-random.js';

const usage = `Usage: node build/bench/fanout.js HOST PORT --count-cmd CMD [options]

  --repeats K        messages (transactions) (default 100)
  --rcpts R          distinct recipients per message (default 100)
  --size BYTES       message size (default 102400)
  --concurrency C    SMTP connections sending in parallel (default 1)
  --users U          recipients drawn from user0001..userUUUU (default 1000)
  --domain D         (default example.test)
  --count-cmd CMD    prints the stored-message count, or 'ternmail stats' JSON (required)
  --du-cmd CMD       prints the store's size in bytes (e.g. 'du -sb DATA/store');
                     without it, blobBytes from the --count-cmd JSON is used
  --settle-ms MS     wait after delivery before measuring the store (default 2000)
  --poll-ms MS       (default 500)   --timeout SECS (default 600)
  --pid PID          server process: report its CPU ms per delivery and peak RSS
  --seed N           (default 2)`;

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      repeats: { type: 'string', default: '100' }, rcpts: { type: 'string', default: '100' },
      size: { type: 'string', default: '102400' }, concurrency: { type: 'string', default: '1' },
      users: { type: 'string', default: '1000' }, domain: { type: 'string', default: 'example.test' },
      'count-cmd': { type: 'string' }, 'du-cmd': { type: 'string' }, 'settle-ms': { type: 'string', default: '2000' },
      'poll-ms': { type: 'string', default: '500' }, timeout: { type: 'string', default: '600' },
      pid: { type: 'string' }, seed: { type: 'string', default: '2' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 2 || !values['count-cmd']) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
  }
  return {
    host: positionals[0], port: Number(positionals[1]), repeats: Number(values.repeats), rcpts: Number(values.rcpts),
    size: Number(values.size), concurrency: Number(values.concurrency), users: Number(values.users), domain: values.domain!,
    countCmd: values['count-cmd']!, duCmd: values['du-cmd'], settleMs: Number(values['settle-ms']),
    pollMs: Number(values['poll-ms']), timeoutSecs: Number(values.timeout),
    pid: values.pid === undefined ? undefined : Number(values.pid), seed: Number(values.seed),
  };
}

type Options = ReturnType<typeof options>;

interface StoreSize {
  /** Bytes on disk from --du-cmd, if given. */
  disk?: number;
  /** Logical bytes of distinct stored bodies (blobBytes), if the count command prints stats JSON. */
  logical?: number;
}

async function storeSize(opts: Options): Promise<StoreSize> {
  const figures: StoreFigures = await runCountCommand(opts.countCmd);
  const disk = opts.duCmd ? Number(execSync(opts.duCmd, { encoding: 'utf8' }).trim().split(/\s+/)[0]) : undefined;
  if (disk === undefined && figures.blobBytes === undefined) throw new Error('no --du-cmd, and --count-cmd printed no blobBytes');
  return { disk, logical: figures.blobBytes };
}

function describeGrowth(label: string, grown: number, repeats: number, messageSize: number): string {
  const perMessage = grown / repeats;
  return `${label} grew ${fmt(grown / 1048576, 2)} MiB: ${fmt(perMessage / 1024)} KiB per message = ` +
    `${fmt(perMessage / messageSize, 2)} stored copies per message`;
}

function sample(random: () => number, count: number, users: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, users)) chosen.add(1 + Math.floor(random() * users));
  return [...chosen];
}

async function main(): Promise<void> {
  const opts = options();
  const random = seededRandom(opts.seed);
  const messages = Array.from({ length: opts.repeats }, (_, r) => ({
    to: sample(random, opts.rcpts, opts.users).map((u) => userAddress(u, opts.domain)),
    data: buildMessage({ size: opts.size, from: 'fanout@example.net', subject: `w2 fan-out ${r}`, unique: `w2-${Date.now()}-${r}` }),
  }));
  const baseline = (await runCountCommand(opts.countCmd)).messages;
  const before = await storeSize(opts);
  console.log(`fanout: ${opts.repeats} msgs x ${messages[0].data.length} B to ${opts.rcpts} rcpts, ${opts.concurrency} connection(s); ` +
    `baseline count ${baseline}, store on disk ${before.disk ?? 'n/a'} B, blobBytes ${before.logical ?? 'n/a'}`);

  const latency = new LatencySamples();
  let accepted = 0;
  let failed = 0;
  const probe = probeProcess(opts.pid);
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    const client = await SmtpClient.connect(opts.host, opts.port);
    while (next < messages.length) {
      const msg = messages[next++];
      try {
        const result = await client.send({ from: 'fanout@example.net', ...msg }, true);
        accepted += result.accepted;
        latency.add(result.latencyMs);
      } catch (err) {
        failed += 1;
        console.log(`  error: ${(err as Error).message}`);
      }
    }
    await client.quit();
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  const acceptSecs = (performance.now() - started) / 1000;
  console.log(`accepted ${accepted} recipients in ${fmt(acceptSecs, 2)} s (${fmt(accepted / acceptSecs)} rcpt/s), ${failed} failed; ` +
    `DATA end -> 250 ${latency.summary()}`);

  const waited = await waitForCount(opts.countCmd, baseline + accepted, opts.pollMs, opts.timeoutSecs * 1000);
  if (waited.at === null) {
    console.log(`TIMEOUT: store count ${waited.last} < ${baseline + accepted}`);
    process.exitCode = 1;
    return;
  }
  const secs = (waited.at - started) / 1000;
  const usage = probe?.finish();
  console.log(`all ${accepted} deliveries stored ${fmt(secs, 2)} s after start: ${fmt(accepted / secs)} deliveries/s`);
  if (usage && opts.pid !== undefined) {
    const perPoll = await cpuCostOf(opts.pid, () => runCountCommand(opts.countCmd), 3);
    console.log(`server CPU ${fmt(usage.cpuMs / Math.max(1, accepted), 3)} ms/delivery (${fmt(usage.cpuMs / 1000, 2)} s incl. ${waited.polls} count polls ` +
      `of ~${fmt(perPoll, 1)} ms each); peak RSS ${fmt(usage.peakRssMiB)} MiB`);
  }
  await new Promise((r) => setTimeout(r, opts.settleMs));
  const after = await storeSize(opts);
  const size = messages[0].data.length;
  if (before.disk !== undefined && after.disk !== undefined) console.log(describeGrowth('store on disk (--du-cmd)', after.disk - before.disk, opts.repeats, size));
  if (before.logical !== undefined && after.logical !== undefined) console.log(describeGrowth('blobBytes (distinct bodies)', after.logical - before.logical, opts.repeats, size));
  console.log(`(a copy per recipient would be ${opts.rcpts} stored copies per message)`);
}

main().catch((err: Error) => {
  console.error(`fanout: ${err.message}`);
  process.exit(1);
});
