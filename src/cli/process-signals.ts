// How a running `ternmail start` answers its environment: SIGTERM/SIGINT stop it
// gracefully, SIGHUP reloads the TLS files, and a server started by npm (`npm start`)
// stops when npm goes away, since npm does not always pass its signals on. SIGUSR1
// reopens the log file (logrotate's postrotate), in the primary and in every worker.
import cluster from 'node:cluster';
import type { Logger, ProcessLogger } from '../core/logger.js';

export interface Stoppable {
  stop(): Promise<void>;
  /** Absent in a cluster's primary, which passes SIGHUP on to its workers. */
  reloadTls?(): void;
}

const PARENT_CHECK_MS = 500;

export function handleProcessSignals(server: Stoppable, log: Logger): void {
  let stopping = false;
  const shutdown = (why: Record<string, string>) => {
    if (stopping) return;
    stopping = true;
    log.info(why, 'stopping');
    server.stop().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown({ signal: 'SIGTERM' }));
  process.on('SIGINT', () => shutdown({ signal: 'SIGINT' }));
  process.on('SIGHUP', () => reload(server, log));
  if (startedByNpm()) watchParent(() => shutdown({ reason: 'parent process (npm) exited' }));
}

function reload(server: Stoppable, log: Logger): void {
  log.info({ signal: 'SIGHUP' }, 'reload requested');
  if (server.reloadTls) return server.reloadTls();
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
}

/** `npm start` and `npx` set npm_lifecycle_event; a server started otherwise may outlive its shell on purpose. */
function startedByNpm(): boolean {
  return process.env.npm_lifecycle_event !== undefined;
}

/** Calls `orphaned` once the parent is gone (the process is re-parented, ppid changes). */
function watchParent(orphaned: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    orphaned();
  }, PARENT_CHECK_MS);
  timer.unref();
}

/**
 * SIGUSR1 reopens the log file under its configured name: after logrotate renamed the
 * old one, new lines land in a new file. A primary passes the signal to its workers.
 * (Handling SIGUSR1 also keeps Node from opening its inspector on it.)
 */
export function reopenLogOnSignal(logger: ProcessLogger, log: Logger): void {
  process.on('SIGUSR1', () => {
    logger.reopen();
    log.info({ signal: 'SIGUSR1' }, 'log file reopened');
    if (!cluster.isPrimary) return;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGUSR1');
  });
}
