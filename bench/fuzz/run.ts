// `node build/bench/fuzz/run.js --target NAME|all --count N --seed S`: the long
// fuzz runs behind docs/fuzzing.md. Prints one line of figures per target and
// the first failing inputs; exits 1 when any target crashed or hung.

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSyncTarget, type FuzzReport } from './harness.js';
import { SYNC_TARGETS } from './targets.js';
import { runSmtpTarget, SMTP_TARGET_NAME } from './smtp-target.js';

const TARGET_NAMES = [...SYNC_TARGETS.map((target) => target.name), SMTP_TARGET_NAME];

function options(): { targets: string[]; count: number; seed: number } {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'all' },
      count: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    },
  });
  const targets = values.target === 'all' ? TARGET_NAMES : values.target.split(',');
  for (const name of targets) {
    if (!TARGET_NAMES.includes(name)) throw new Error(`--target: unknown target ${name} (known: ${TARGET_NAMES.join(', ')}, all)`);
  }
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(count) || count <= 0) throw new Error('--count: expected a positive integer');
  if (!Number.isSafeInteger(seed)) throw new Error('--seed: expected an integer');
  return { targets, count, seed };
}

function progress(name: string, inputs: number): void {
  process.stderr.write(`${new Date().toISOString()} ${name}: ${inputs} inputs\n`);
}

async function runTarget(name: string, count: number, seed: number): Promise<FuzzReport> {
  if (name === SMTP_TARGET_NAME) return runSmtpTarget(count, seed, (tally) => progress(name, tally.inputs));
  const target = SYNC_TARGETS.find((candidate) => candidate.name === name)!;
  return runSyncTarget(target, count, seed, (tally) => progress(name, tally.inputs));
}

function printReport(report: FuzzReport, seed: number): void {
  const figures = [
    `target=${report.target}`, `seed=${seed}`, `inputs=${report.inputs}`, `crashes=${report.crashes}`,
    `hangs>100ms=${report.hangs}`, `max_ms=${report.maxMs.toFixed(2)}`, `max_first_ms=${report.maxFirstMs.toFixed(2)}`, `max_heap_MiB=${report.maxHeapMiB.toFixed(1)}`,
    `seconds=${report.seconds.toFixed(1)}`,
  ];
  if (report.maxLoopDelayMs !== undefined) figures.splice(7, 0, `max_loop_block_ms=${report.maxLoopDelayMs.toFixed(2)}`);
  process.stdout.write(`${figures.join(' ')}\n`);
  report.failures.forEach((failure, index) => {
    const file = path.join(tmpdir(), `ternmail-fuzz-${report.target}-${seed}-${index}.txt`);
    writeFileSync(file, `${failure.error}\n${failure.input}\n`);
    process.stdout.write(`  failing input (${failure.input.length} chars, full text in ${file}): ${failure.input.slice(0, 160)}\n`);
    process.stdout.write(`    ${failure.error.split('\n').join('\n    ')}\n`);
  });
}

async function main(): Promise<void> {
  const { targets, count, seed } = options();
  let failed = false;
  for (const name of targets) {
    const report = await runTarget(name, count, seed);
    printReport(report, seed);
    failed ||= report.crashes > 0 || report.hangs > 0;
  }
  process.exit(failed ? 1 : 0);
}

await main();
