// What the process does with errors nobody caught. A rejected promise nobody awaited
// is a bug in one request, not in the server: log it with its stack and keep serving.
// An uncaught exception may have left any in-memory state half-changed: log it and
// exit non-zero (a supervisor or the cluster primary restarts us); nothing is lost,
// because nothing is acknowledged before its synced write.
import type { Logger } from './logger.js';

/** Exit status after an uncaught exception (EX_SOFTWARE). */
export const UNCAUGHT_EXIT_CODE = 70;

export function installProcessPolicy(log: Logger): void {
  process.on('unhandledRejection', (reason) => logUnhandledRejection(log, reason));
  process.on('uncaughtException', (err, origin) => exitAfterUncaught(log, err, origin));
}

function logUnhandledRejection(log: Logger, reason: unknown): void {
  const err = reason instanceof Error ? reason : new Error(`non-error rejection: ${String(reason)}`);
  log.error({ err }, 'unhandled promise rejection (a bug); the server keeps serving');
}

/**
 * For a singleton actor (queue, directory, router, delivery workers, …) that crashed
 * past its restart limit: the process cannot serve without it, so it exits the way an
 * uncaught exception does and its supervisor (the cluster primary, systemd) restarts it
 * from disk.
 */
export function escalate(log: Logger, what: string): () => void {
  return () => {
    log.fatal({ what }, `${what} stopped after crashing too often; exiting so a supervisor restarts the server from disk`);
    log.flush?.();
    process.exit(UNCAUGHT_EXIT_CODE);
  };
}

function exitAfterUncaught(log: Logger, err: Error, origin: string): void {
  log.fatal({ err, origin }, 'uncaught exception; exiting so a supervisor restarts the server from disk');
  log.flush?.();
  process.exit(UNCAUGHT_EXIT_CODE);
}
