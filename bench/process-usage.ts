// Server-side cost of a benchmark run, read from /proc for a given pid: CPU time
// (utime + stime, in ms) and the peak resident set size (VmHWM).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = 0;

function clockTicks(): number {
  if (ticksPerSecond === 0) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU milliseconds (user + system) the process has used so far. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: fields are counted after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks();
}

/** Peak resident set size in KiB (VmHWM), or the current one (VmRSS) if HWM is missing. */
export function peakRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status) ?? /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) : NaN;
}

export interface UsageProbe {
  /** CPU ms used since the probe was taken, and the peak RSS so far. */
  finish(): { cpuMs: number; peakRssMiB: number };
}

/** Starts measuring a process; returns null when no pid is given. */
export function probeProcess(pid: number | undefined): UsageProbe | null {
  if (pid === undefined) return null;
  const before = cpuMs(pid);
  return {
    finish: () => ({ cpuMs: cpuMs(pid) - before, peakRssMiB: peakRssKiB(pid) / 1024 }),
  };
}

/** This process's own CPU ms (the load generator's share of the machine). */
export function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Server CPU ms that one run of an async action costs, averaged over `times` runs
 * on an otherwise idle server (used to separate the cost of count polling).
 */
export async function cpuCostOf(pid: number, action: () => Promise<unknown>, times: number): Promise<number> {
  const before = cpuMs(pid);
  for (let i = 0; i < times; i++) await action();
  return (cpuMs(pid) - before) / times;
}
