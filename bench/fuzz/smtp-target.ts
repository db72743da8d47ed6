// The SMTP target: smtp-server and our hooks are fuzzed through a real ternmail
// server in this process, over loopback sockets. Each connection carries a batch
// of pipelined command lines cut at random points; every reply counts as one input.

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../src/settings.js';
import { silentLogger } from '../../src/core/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { FuzzTally, probeEventLoop, type FuzzReport } from './harness.js';
import { chunksOf, lines, mutated, rawBytes, splitPoints } from './mutations.js';

export const SMTP_TARGET_NAME = 'smtp-socket';

const SMTP_SEEDS = [
  'EHLO client.fuzz.test', 'HELO client.fuzz.test', 'MAIL FROM:<sender@elsewhere.test>', 'MAIL FROM:<> SIZE=100 BODY=8BITMIME',
  'MAIL FROM:<a@b.test> SMTPUTF8', 'RCPT TO:<user@fuzz.test>', 'RCPT TO:<nobody@fuzz.test>', 'RCPT TO:<x@not-ours.test>',
  'RCPT TO:<"quoted local"@fuzz.test> NOTIFY=NEVER', 'RCPT TO:<@route.test:user@fuzz.test>', 'DATA',
  'Subject: fuzz\r\n\r\nbody line\r\n..dot\r\n.', 'RSET', 'NOOP', 'NOOP with text', 'VRFY user', 'EXPN list', 'HELP',
  'STARTTLS', 'AUTH PLAIN AHVzZXIAcHc=', 'BDAT 5 LAST', 'XCLIENT ADDR=1.2.3.4', 'MAIL FROM:<user@fuzz.test>',
];

/** Lines per connection; the server closes early after ten unrecognized commands, so most lines stay valid. */
const LINES_PER_CONNECTION = 200;
const CONNECTION_TIMEOUT_MS = 30_000;
const CONCURRENT_CONNECTIONS = 16;

export interface SmtpBatch {
  lines: Buffer[];
  splits: number[];
}

const smtpLine: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: lines(...SMTP_SEEDS) },
  { weight: 4, arbitrary: mutated(lines(...SMTP_SEEDS), 3) },
  { weight: 1, arbitrary: rawBytes(300) },
);

export const smtpBatch: fc.Arbitrary<SmtpBatch> = fc.record({
  lines: fc.array(smtpLine, { minLength: 1, maxLength: LINES_PER_CONNECTION, size: 'max' }),
  splits: splitPoints,
});

/** The bytes a batch sends: its lines, then an end of DATA (in case a DATA got through) and QUIT. */
export function batchBytes(batch: SmtpBatch): Buffer {
  return Buffer.concat([...batch.lines, Buffer.from('\r\n.\r\nQUIT\r\n')]);
}

/** A ternmail server on loopback ports with a fresh data folder and one local user. */
export async function startFuzzServer(): Promise<{ server: RunningServer; destroy(): Promise<void> }> {
  const data = mkdtempSync(path.join(tmpdir(), 'ternmail-fuzz-'));
  const config = loadConfig({
    flags: { data, smtpPort: 0, submissionPort: 0, pop3Port: 0, imapPort: 0, adminPort: 0, passwordCost: 10, importPasswordCost: 10 },
  });
  const server = await startServer(config, silentLogger());
  await adminCall(server, 'POST', '/v1/domains', { name: 'fuzz.test' });
  await adminCall(server, 'POST', '/v1/users/import', { users: [{ address: 'user@fuzz.test', password: 'pw' }] });
  return {
    server,
    async destroy() {
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

async function adminCall(server: RunningServer, method: string, route: string, body: unknown): Promise<void> {
  const response = await fetch(server.adminUrl + route, {
    method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`admin ${route}: ${response.status}`);
}

/**
 * Sends one batch and records each final reply line as one input, timed from the
 * previous reply. A 451 "Internal error" reply means one of our hooks threw: a crash.
 * A connection that neither closes nor answers within the timeout is a hang.
 */
export function fuzzConnection(port: number, batch: SmtpBatch, tally: FuzzTally): Promise<void> {
  const show = () => JSON.stringify({ bytes: batchBytes(batch).toString('base64'), splits: batch.splits });
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let pending = '';
    let last = performance.now();
    const timer = setTimeout(() => {
      tally.record(CONNECTION_TIMEOUT_MS, show, new Error('connection neither answered nor closed'));
      socket.destroy();
    }, CONNECTION_TIMEOUT_MS);
    let greeted = false;
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let lf = pending.indexOf('\n'); lf >= 0; lf = pending.indexOf('\n')) {
        const reply = pending.slice(0, lf);
        pending = pending.slice(lf + 1);
        if (!/^\d{3}( |$)/.test(reply)) continue;
        const now = performance.now();
        if (greeted && reply.startsWith('220 ')) {
          // STARTTLS accepted: a real client would now start TLS, so this batch is over.
          tally.record(now - last, show);
          socket.destroy();
          return;
        }
        if (!greeted) {
          // smtp-server refuses clients that talk before its greeting ("421 You talk too soon").
          greeted = true;
          last = now;
          for (const part of chunksOf(batchBytes(batch), batch.splits)) socket.write(part);
          continue;
        }
        tally.record(now - last, show, reply.startsWith('451 4.3.0') ? new Error(`server replied ${reply}`) : undefined);
        last = now;
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs batches over a few concurrent connections until `count` replies were received. */
export async function runSmtpTarget(count: number, seed: number, onProgress?: (tally: FuzzTally) => void): Promise<FuzzReport> {
  const { server, destroy } = await startFuzzServer();
  // A reply may wait on a synced write or on 15 other connections: for this target a
  // hang is the event loop blocked over 100 ms, or a connection stuck (a crash).
  const tally = new FuzzTally(SMTP_TARGET_NAME, CONNECTION_TIMEOUT_MS);
  const inFlight = new Set<SmtpBatch>();
  const gcPauses = watchGcPauses();
  const blocks: Array<{ from: number; to: number }> = [];
  const probe = probeEventLoop((ms) => {
    if (ms > 100) blocks.push({ from: performance.now() - ms - 10, to: performance.now() });
    tally.recordLoopDelay(ms, () => inFlightText(inFlight));
  });
  let batchIndex = 0;
  let nextProgress = 100_000;
  const worker = async () => {
    while (tally.inputs < count) {
      probe.excuseThisPeriod();
      const [batch] = fc.sample(smtpBatch, { seed: seed + batchIndex++, numRuns: 1 });
      inFlight.add(batch!);
      await fuzzConnection(server.ports.smtp, batch!, tally);
      inFlight.delete(batch!);
      if (onProgress && tally.inputs >= nextProgress) {
        nextProgress += 100_000;
        onProgress(tally);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENT_CONNECTIONS }, worker));
    await expectServerAnswers(server.ports.smtp, tally);
  } finally {
    probe.stop();
    // GC entries arrive after the pause: match them to the blocks once the run is over.
    for (const block of blocks) {
      const pauses = gcPauses.overlapping(block.from, block.to).map((entry) => `${entry.duration.toFixed(1)} ms`);
      process.stderr.write(`event loop blocked ${(block.to - block.from - 10).toFixed(1)} ms; GC pauses in that time: ${pauses.join(', ') || 'none'}\n`);
    }
    gcPauses.stop();
    await destroy();
  }
  return tally.report();
}

/** After the run, a plain EHLO must still get its 250: the listener survived. */
async function expectServerAnswers(port: number, tally: FuzzTally): Promise<void> {
  const probe = new FuzzTally('probe');
  await fuzzConnection(port, { lines: [Buffer.from('EHLO probe.test\r\n')], splits: [] }, probe);
  if (probe.inputs < 2) tally.record(0, () => 'EHLO after the run', new Error('server no longer answers'));
}

/** The batches on the wire when the event loop blocked. */
function inFlightText(inFlight: Set<SmtpBatch>): string {
  return JSON.stringify({ inFlightBatches: [...inFlight].map((batch) => batchBytes(batch).toString('base64')) });
}

/** GC pauses as perf_hooks reports them (entries arrive a little after the pause). */
function watchGcPauses(): { overlapping(from: number, to: number): PerformanceEntry[]; stop(): void } {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => {
    entries.push(...list.getEntries().filter((entry) => entry.duration > 10));
    if (entries.length > 1000) entries.splice(0, entries.length - 1000);
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    overlapping: (from, to) => entries.filter((entry) => entry.startTime + entry.duration >= from && entry.startTime <= to),
    stop: () => observer.disconnect(),
  };
}
