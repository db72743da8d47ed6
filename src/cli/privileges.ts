// `--user NAME`: started as root to bind privileged ports (25, 110, 143, 465, 587, 993,
// 995), the server hands its data folder and log file to NAME and becomes NAME (group
// first, then user) once every listener is bound, before it reads any mail. With
// `--workers N` the workers run as NAME from their start (the primary, still root,
// binds their listeners for them) and the primary becomes NAME once every worker
// listens. Under systemd the unit's User= with AmbientCapabilities=CAP_NET_BIND_SERVICE
// does the same without root; this is for init systems and containers that start as root.
import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import { CliError } from './admin-client.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Looks NAME up in the system's user database (`id`); a missing user is a start-up error. */
export function accountOf(name: string): Account {
  const id = (flag: string): number => {
    try {
      return Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    } catch {
      throw new CliError(`--user ${name}: no such user`);
    }
  };
  return { name, uid: id('-u'), gid: id('-g') };
}

/** Checked before anything starts: only root can become another user. */
export function checkUserSwitch(name: string): Account | null {
  if (name === '') return null;
  const account = accountOf(name);
  if (process.getuid?.() === account.uid) return null;
  if (process.getuid?.() !== 0) throw new CliError(`--user ${name}: only root can switch to another user (running as uid ${process.getuid?.()})`);
  return account;
}

/**
 * Does any listener use a port below 1024? Once the primary of a cluster is no longer
 * root it cannot bind such a port again, which it must when every worker holding that
 * listener has died at once.
 */
export function bindsPrivilegedPorts(config: object, except: string[] = ['admin']): boolean {
  for (const [section, values] of Object.entries(config)) {
    if (except.includes(section) || typeof values !== 'object' || values === null) continue;
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      if (/port$/i.test(key) && typeof value === 'number' && value > 0 && value < 1024) return true;
    }
  }
  return false;
}

/** Gives every file under `dir` to the account (the store's LevelDB files, the pid and admin files). */
function chownTree(dir: string, account: Account): void {
  chownSync(dir, account.uid, account.gid);
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (lstatSync(file).isDirectory()) chownTree(file, account);
    else chownSync(file, account.uid, account.gid);
  }
}

/** Gives the data folder (and the log file) to the account; still root. */
export function handOver(account: Account, files: { data: string; logFile: string }): void {
  chownTree(files.data, account);
  if (files.logFile) chownSync(files.logFile, account.uid, account.gid);
}

/** Hands the files over (again: files made since are root's) and switches user; the listeners stay bound. */
export function dropPrivileges(account: Account, files: { data: string; logFile: string }, log: Logger): void {
  handOver(account, files);
  process.setgroups?.([account.gid]);
  process.setgid!(account.gid);
  process.setuid!(account.uid);
  log.info({ user: account.name, uid: account.uid, gid: account.gid }, 'privileges dropped after binding the listeners');
}
