// The data folder: created private (0700) and tightened if it is not, with a pid file
// beside the store so that a second server on the same folder can say who holds it.
// A LevelDB lock or permission error at open becomes a StartupError naming the cause.
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import { fileFailure, StartupError } from '../core/startup-error.js';

export const PID_FILE = 'ternmail.pid';

/** Creates the folder 0700, or removes group and other access from an existing one. */
export function prepareDataFolder(dir: string, log: Logger): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o077) === 0) return;
    chmodSync(dir, mode & 0o700);
    log.info({ data: dir, was: mode.toString(8), now: (mode & 0o700).toString(8) }, 'data folder access tightened to its owner');
  } catch (err) {
    throw fileFailure(err, dir);
  }
}

/** Records this process as the folder's holder; call once the store is open (its lock held). */
export function writePidFile(dir: string): void {
  writeFileSync(path.join(dir, PID_FILE), `${process.pid}\n`, { mode: 0o600 });
}

/** Removes the pid file if it is still this process's. */
export function removePidFile(dir: string): void {
  if (readPid(dir) === process.pid) rmSync(path.join(dir, PID_FILE), { force: true });
}

/** The pid in the data folder's pid file (the single process, or a cluster's primary), if any. */
export function readPid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dir, PID_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Explains a failed store open: held by another server, or not ours to write. */
export function storeOpenFailure(err: unknown, dir: string, storePath: string): Error {
  const causes = errorChain(err);
  if (causes.some((e) => (e as { code?: string }).code === 'LEVEL_LOCKED')) {
    const pid = readPid(dir);
    return new StartupError(`data folder ${dir} is in use by ${pid === null ? 'another process' : `pid ${pid}`}`, err);
  }
  const denied = causes.find((e) => /permission denied/i.test(e.message));
  if (denied) {
    const file = /IO error: (.*?): Permission denied/i.exec(denied.message)?.[1] ?? storePath;
    return new StartupError(`permission denied: ${file}`, err);
  }
  return fileFailure(err, storePath);
}

function errorChain(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = err; e instanceof Error && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}
