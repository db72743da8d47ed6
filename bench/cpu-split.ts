// How the machine's CPU was split during one load run: the server's processes one by
// one (a cluster's primary and each worker, told apart by TERNMAIL_NODE_ID), the load
// generator (the command given, with every process it waited for), and the rest.
//   node build/bench/cpu-split.js --pid SERVER_PID -- COMMAND [ARGS...]
// The command runs with inherited stdio; the split is printed after it exits.
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const usage = 'Usage: node build/bench/cpu-split.js --pid SERVER_PID [--interval-ms 500] -- COMMAND [ARGS...]';

let ticksPerSecond = 100;

interface Stat { ppid: number; cpuTicks: number; childTicks: number }

function statOf(pid: number | 'self'): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

function labelOf(pid: number, root: number): string {
  if (pid !== root) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const node = env.find((e) => e.startsWith('TERNMAIL_NODE_ID='));
      if (node) return `worker ${node.slice('TERNMAIL_NODE_ID='.length)} (pid ${pid})`;
    } catch { /* gone */ }
    return `child (pid ${pid})`;
  }
  return `server (pid ${pid})`;
}

/** The server's process tree: root and every descendant, with CPU ticks so far. */
function serverTree(root: number): Map<number, number> {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (!s) continue;
    parent.set(Number(name), s.ppid);
    ticks.set(Number(name), s.cpuTicks);
  }
  const tree = new Map<number, number>();
  for (const pid of ticks.keys()) {
    let p: number | undefined = pid;
    for (let depth = 0; p !== undefined && p > 1 && depth < 8; depth++) {
      if (p === root) { tree.set(pid, ticks.get(pid)!); break; }
      p = parent.get(p);
    }
  }
  return tree;
}

function machineTicks(): { total: number; idle: number } {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: v.reduce((a, b) => a + b, 0), idle: v[3]! + v[4]! };
}

async function main(): Promise<void> {
  const dash = process.argv.indexOf('--');
  if (dash < 0 || dash === process.argv.length - 1) { console.log(usage); process.exit(2); }
  const { values } = parseArgs({
    args: process.argv.slice(2, dash),
    options: { pid: { type: 'string' }, 'interval-ms': { type: 'string', default: '500' } },
  });
  if (values.pid === undefined) { console.log(usage); process.exit(2); }
  const root = Number(values.pid);
  try {
    ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch { /* 100 */ }
  const first = new Map<number, number>(serverTree(root));
  const last = new Map<number, number>(first);
  const labels = new Map<number, string>([...first.keys()].map((p) => [p, labelOf(p, root)]));
  const selfBefore = statOf('self')!;
  const m0 = machineTicks();
  const t0 = performance.now();
  const child = spawn(process.argv[dash + 1]!, process.argv.slice(dash + 2), { stdio: 'inherit' });
  const sample = () => {
    for (const [pid, t] of serverTree(root)) {
      if (!labels.has(pid)) { labels.set(pid, labelOf(pid, root)); first.set(pid, 0); }
      last.set(pid, t);
    }
  };
  const timer = setInterval(sample, Number(values['interval-ms']));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  sample();
  const secs = (performance.now() - t0) / 1000;
  const m1 = machineTicks();
  const selfAfter = statOf('self')!;
  const cores = cpus().length;
  const s = (ticks: number) => ticks / ticksPerSecond;
  const row = (label: string, cpuS: number) =>
    console.log(`  ${label.padEnd(30)} ${cpuS.toFixed(1).padStart(7)} cpu-s  ${((100 * cpuS) / secs).toFixed(0).padStart(4)} % of a core`);
  const busyS = ((1 - (m1.idle - m0.idle) / Math.max(1, m1.total - m0.total)) * cores * secs);
  console.log(`cpu-split: ${secs.toFixed(1)} s, machine busy ${((100 * busyS) / (cores * secs)).toFixed(0)} % of ${cores} cores (${busyS.toFixed(1)} cpu-s)`);
  let server = 0;
  for (const [pid, label] of labels) {
    const used = s((last.get(pid) ?? 0) - (first.get(pid) ?? 0));
    server += used;
    row(label, used);
  }
  if (labels.size > 1) row('server, all processes', server);
  const loader = s(selfAfter.childTicks - selfBefore.childTicks);
  row('load generator', loader);
  row('everything else', Math.max(0, busyS - server - loader - s(selfAfter.cpuTicks - selfBefore.cpuTicks)));
  process.exit(code);
}

void main();
