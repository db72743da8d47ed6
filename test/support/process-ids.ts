// Who a process runs as and who owns a folder's files, read from /proc and lstat: the
// --user tests check that every process of a server (and every file it wrote) belongs
// to the account it switched to.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function uidOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

/** Real, effective, saved and file-system uid and gid of a process. */
export function idsOf(pid: number): { uid: number[]; gid: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const ids = (field: string) => /^\w+:\s+(.*)$/m.exec(status.split('\n').find((l) => l.startsWith(field + ':'))!)![1].trim().split(/\s+/).map(Number);
  return { uid: ids('Uid'), gid: ids('Gid') };
}

/** Owners of every file and folder under `dir`, with the paths of those not owned by `uid`. */
export function notOwnedBy(dir: string, uid: number): string[] {
  const out: string[] = [];
  if (lstatSync(dir).uid !== uid) out.push(dir);
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (lstatSync(file).isDirectory()) out.push(...notOwnedBy(file, uid));
    else if (lstatSync(file).uid !== uid) out.push(file);
  }
  return out;
}

/** The pid of every process whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => {
    try {
      return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))![1]) === pid;
    } catch {
      return false;
    }
  });
}
