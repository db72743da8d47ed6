// Start-up failures an operator can act on, as one line naming the cause ("port 2525
// already in use (smtpPort)", "permission denied: PATH", "data folder is in use by pid
// N"); the CLI prints the line alone and logs the original error at debug level.
import { flagName } from '../config/config.js';

export class StartupError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** A listener that could not bind: names the port and the setting that chose it. */
export function listenFailure(err: unknown, port: number, setting: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${setting}, --${flagName(setting)}`;
  if (code === 'EADDRINUSE') return new StartupError(`port ${port} already in use (${where})`, err);
  if (code === 'EACCES') return new StartupError(`permission denied: port ${port} (${where})`, err);
  if (code === 'EADDRNOTAVAIL') return new StartupError(`address not available for port ${port} (${where}): ${(err as Error).message}`, err);
  return err as Error;
}

/** A file-system error with a path: permission problems become one line naming the path. */
export function fileFailure(err: unknown, fallbackPath: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') return new StartupError(`permission denied: ${e.path ?? fallbackPath}`, err);
  return err as Error;
}
