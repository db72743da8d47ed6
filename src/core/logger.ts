// The process-wide structured logger (pino). Every component takes a child of it;
// one line per event that matters (a transaction, a delivery, an auth failure).
// Lines go to standard output or to a file (`--log-file`, reopened on SIGUSR1 so that
// logrotate can move it away), as JSON or as readable text (`--log-format pretty`).
import { pino, type Logger } from 'pino';
import { prettyStream } from './log-pretty.js';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Empty: standard output. */
  file?: string;
  format?: 'json' | 'pretty';
}

/** The logger and, when it writes to a file, a way to reopen that file under its name. */
export interface ProcessLogger {
  log: Logger;
  /** Reopens the log file (after logrotate renamed it); a no-op on standard output. */
  reopen(): void;
}

export function openLogger(options: LogOptions = {}): ProcessLogger {
  const level = options.level ?? process.env.TERNMAIL_LOG_LEVEL ?? 'info';
  // sync: a line is written before the call returns, so kill -9 or an exit loses none.
  const destination = pino.destination({ dest: options.file ? options.file : 1, sync: true, mkdir: true });
  const stream = options.format === 'pretty' ? prettyStream(destination) : destination;
  const log = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return {
    log,
    reopen: () => {
      if (options.file) destination.reopen();
    },
  };
}

export function createLogger(level: string = process.env.TERNMAIL_LOG_LEVEL ?? 'info'): Logger {
  return openLogger({ level }).log;
}

/** A logger that writes nothing: for unit tests of pure components. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
