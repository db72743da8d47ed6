// The process-wide structured logger (pino). Every component takes a child of it;
// one line per event that matters (a transaction, a delivery, an auth failure).
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.TERNMAIL_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that writes nothing: for unit tests of pure components. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
