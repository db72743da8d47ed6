// `ternmail reload` and `ternmail log reopen`: SIGHUP and SIGUSR1 sent to the server of
// a data folder (the pid in its pid file: the single process, or a cluster's primary,
// which passes them on to its workers), as `postfix reload` and `doveadm log reopen`
// do. The way to reach a server started by `npm start`, since npm passes on only
// SIGINT and SIGTERM, and one less pid for an operator to look up.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readPid } from '../store/data-folder.js';
import { CliError } from './admin-client.js';

const WHAT: Record<'SIGHUP' | 'SIGUSR1', string> = {
  SIGHUP: 'reload (settings, TLS key and certificate)',
  SIGUSR1: 'log file reopen',
};

/**
 * A pid file left by a server killed with -9 may name a pid reused since: the process
 * must be a `ternmail start` (checked where /proc tells; elsewhere it is trusted).
 */
function isTernmailServer(pid: number): boolean {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync('/proc/self/cmdline');
  }
  return argv.includes('start') && argv.some((arg) => /(?:^|\/)(?:ternmail|main\.js)$/.test(arg));
}

/** Sends the signal to the data folder's server; returns the line to print. */
export function signalServer(data: string, from: string, signal: 'SIGHUP' | 'SIGUSR1'): string {
  const folder = path.resolve(data);
  const pid = readPid(folder);
  if (pid === null) throw new CliError(`server not running: no pid file in ${folder} (data folder from ${from})`);
  if (!isTernmailServer(pid)) throw new CliError(`server not running: pid ${pid} of ${folder} is not a ternmail server (a stale pid file)`);
  try {
    process.kill(pid, signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new CliError(`server not running: pid ${pid} of ${folder} is gone`);
    if (code === 'EPERM') throw new CliError(`not allowed to signal pid ${pid}: run as its user or as root`);
    throw err;
  }
  return `${WHAT[signal]} requested: ${signal} sent to pid ${pid}`;
}
