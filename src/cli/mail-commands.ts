// The doveadm-like commands: `user show|disable|enable|rename`, `mailbox export|import`
// (mbox or Maildir, with a progress bar), `search` and `expunge` across users, and
// `backup` (of a running node) / `restore` (into a stopped one's data folder).
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { callAdmin, callAdminRaw, CliError, type AdminTarget } from './admin-client.js';
import { Progress } from './progress.js';
import { listMaildir, mboxEntry, mboxFileName, readMaildirFile, readMbox, writeMaildirMessage, type MailFile } from './mail-files.js';

type Out = (line: string) => void;
const enc = encodeURIComponent;

interface FolderRow { name: string; messages: number; unseen: number; bytes: number }
interface UserShow {
  address: string; quota: number; created: number; disabled: boolean; lastLogin: number | null;
  usage: { messages: number; bytes: number }; folders: FolderRow[];
}
interface MessageRow { uid: number; flags: string[]; internalDate: number; size: number; blob: string }
interface MatchRow { user: string; folder: string; uid: number; from: string; subject: string; date: number; size: number }

const when = (time: number | null) => (time ? new Date(time).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'never');

export async function userShow(admin: AdminTarget, address: string, out: Out): Promise<void> {
  const u = await callAdmin<UserShow>(admin, 'GET', `/v1/users/${enc(address)}`);
  out(`user:        ${u.address}${u.disabled ? ' (disabled)' : ''}`);
  out(`created:     ${when(u.created)}`);
  out(`last login:  ${when(u.lastLogin)}`);
  out(`quota:       ${u.quota ? `${u.quota} bytes` : 'unlimited'}`);
  out(`usage:       ${u.usage.bytes} bytes in ${u.usage.messages} messages${u.quota ? ` (${((u.usage.bytes / u.quota) * 100).toFixed(1)}% of quota)` : ''}`);
  const width = Math.max(6, ...u.folders.map((f) => f.name.length));
  out('');
  out(`${'FOLDER'.padEnd(width)}  MESSAGES  UNSEEN  BYTES`);
  for (const f of u.folders) out(`${f.name.padEnd(width)}  ${String(f.messages).padStart(8)}  ${String(f.unseen).padStart(6)}  ${f.bytes}`);
}

export async function userAction(admin: AdminTarget, action: 'disable' | 'enable', address: string, out: Out): Promise<void> {
  await callAdmin(admin, 'POST', `/v1/users/${enc(address)}/${action}`);
  out(`user ${action}d: ${address.toLowerCase()}`);
}

export async function userRename(admin: AdminTarget, from: string, to: string, keepAlias: boolean, out: Out): Promise<void> {
  await callAdmin(admin, 'POST', `/v1/users/${enc(from)}/rename`, { to, keepAlias });
  out(`user renamed: ${from.toLowerCase()} -> ${to.toLowerCase()} (mailbox, folders, quota and aliases to it kept)`);
  if (keepAlias) out(`alias kept: ${from.toLowerCase()} -> ${to.toLowerCase()}`);
}

function format(value: unknown): 'mbox' | 'maildir' {
  if (value === 'mbox' || value === 'maildir') return value;
  throw new CliError('--format must be mbox or maildir');
}

export async function mailboxExport(admin: AdminTarget, address: string, formatName: unknown, dir: string, out: Out): Promise<void> {
  const kind = format(formatName);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) throw new CliError(`${dir} exists and is not an empty folder`);
  mkdirSync(dir, { recursive: true });
  const folders = await callAdmin<FolderRow[]>(admin, 'GET', `/v1/mailboxes/${enc(address)}/folders`);
  const total = folders.reduce((n, f) => n + f.messages, 0);
  const progress = new Progress('export', total, { unit: 'messages' });
  let done = 0;
  for (const folder of folders) {
    const messages = await callAdmin<MessageRow[]>(admin, 'GET', `/v1/mailboxes/${enc(address)}/folders/${enc(folder.name)}`);
    for (const m of messages) {
      const message = await callAdminRaw(admin, 'GET', `/v1/mailboxes/${enc(address)}/blobs/${m.blob}`);
      const mail: MailFile = { folder: folder.name, message, flags: m.flags, internalDate: m.internalDate };
      if (kind === 'maildir') writeMaildirMessage(dir, mail, m.uid);
      else appendFileSync(path.join(dir, mboxFileName(folder.name)), mboxEntry(mail, returnPath(message)));
      done += 1;
      progress.update(done, folder.name);
    }
  }
  progress.finish(done);
  const used = folders.filter((f) => f.messages > 0).length;
  const empty = folders.length - used;
  out(`exported ${done} messages in ${used} folders of ${address.toLowerCase()} to ${dir} (${kind})${empty ? `; ${empty} empty folder(s) not written` : ''}`);
}

/** The envelope sender for a From_ line: the Return-Path, else the From address. */
function returnPath(message: Buffer): string {
  const head = message.subarray(0, 8192).toString('latin1');
  const match = /^Return-Path:\s*<([^>]*)>/im.exec(head) ?? /^From:[^\n]*<([^>\s]+@[^>\s]+)>/im.exec(head) ?? /^From:\s*([^\s<>]+@[^\s<>]+)/im.exec(head);
  return match?.[1] || 'MAILER-DAEMON';
}

export async function mailboxImport(admin: AdminTarget, address: string, formatName: unknown, source: string, folder: string | undefined, out: Out): Promise<void> {
  const kind = format(formatName);
  const folders = new Set<string>();
  let done = 0;
  const send = async (mail: MailFile) => {
    const flags = mail.flags.filter((f) => f !== '\\Recent').join(' ');
    const route = `/v1/mailboxes/${enc(address)}/folders/${enc(mail.folder)}/messages?flags=${enc(flags)}&date=${enc(new Date(mail.internalDate).toISOString())}`;
    await callAdminRaw(admin, 'POST', route, mail.message);
    folders.add(mail.folder);
    done += 1;
  };
  // One message in memory at a time, whatever the size of the mailbox.
  if (kind === 'maildir') {
    const files = readable(source, () => listMaildir(source));
    const progress = new Progress('import', files.length, { unit: 'messages' });
    for (const file of files) {
      const mail = readable(file.file, () => readMaildirFile(file));
      await send(folder ? { ...mail, folder: mail.folder === 'INBOX' ? folder : `${folder}/${mail.folder}` } : mail);
      progress.update(done, mail.folder);
    }
    progress.finish(done);
  } else {
    const target = folder ?? (/^inbox(\.mbox)?$/i.test(path.basename(source)) ? 'INBOX' : path.basename(source).replace(/\.mbox$/, '').split('.').join('/'));
    const size = readable(source, () => statSync(source).size);
    const progress = new Progress('import', size, { unit: 'bytes' });
    try {
      for await (const { mail, bytesRead } of readMbox(source, target)) {
        await send(mail);
        progress.update(bytesRead, `${done} messages`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === undefined) throw err;
      throw new CliError(`cannot read ${source}: ${(err as Error).message}`);
    }
    progress.finish(size);
  }
  out(`imported ${done} messages into ${folders.size} folder(s) of ${address.toLowerCase()} from ${source} (${kind})`);
}

/** Runs a read of the source, turning a file-system error into the CLI's plain message. */
function readable<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new CliError(`cannot read ${what}: ${(err as Error).message}`);
  }
}

export function queryFrom(values: Record<string, unknown>): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of ['from', 'subject', 'since', 'before']) if (typeof values[key] === 'string') query[key] = values[key] as string;
  if (Object.keys(query).length === 0) throw new CliError('give at least one of --from, --subject, --since DATE, --before DATE');
  return query;
}

function matchLines(rows: MatchRow[]): string[] {
  return rows.map((r) => `${r.user}\t${r.folder}\t${r.uid}\t${new Date(r.date).toISOString().slice(0, 10)}\t${r.from}\t${r.subject}`);
}

export async function search(admin: AdminTarget, values: Record<string, unknown>, out: Out): Promise<void> {
  const rows = await callAdmin<MatchRow[]>(admin, 'POST', '/v1/search', queryFrom(values));
  for (const line of matchLines(rows)) out(line);
  out(`${rows.length} message(s) in ${new Set(rows.map((r) => r.user)).size} mailbox(es)`);
}

export async function expunge(admin: AdminTarget, values: Record<string, unknown>, out: Out): Promise<void> {
  if (values.yes !== true) throw new CliError('expunge removes messages for good: look at them with `ternmail search` first, then add --yes');
  const rows = await callAdmin<MatchRow[]>(admin, 'POST', '/v1/expunge', queryFrom(values));
  for (const line of matchLines(rows)) out(line);
  out(`expunged ${rows.length} message(s) from ${new Set(rows.map((r) => r.user)).size} mailbox(es)`);
}

interface BackupStatus { running: boolean; dir: string | null; keys: number; bytes: number; estimatedBytes: number; error: string | null }

export async function backup(admin: AdminTarget, dir: string, out: Out): Promise<void> {
  const target = path.resolve(dir);
  let status = await callAdmin<BackupStatus>(admin, 'POST', '/v1/backup', { dir: target });
  const progress = new Progress('backup', Math.max(status.estimatedBytes, 1), { unit: 'bytes' });
  while (status.running) {
    progress.update(status.bytes, `${status.keys} keys`, Math.max(status.estimatedBytes, status.bytes));
    await new Promise((r) => setTimeout(r, 200));
    status = await callAdmin<BackupStatus>(admin, 'GET', '/v1/backup');
  }
  if (status.error) throw new CliError(`backup failed: ${status.error}`);
  progress.finish(status.bytes, `${status.keys} keys`);
  out(`backup written to ${target}: ${status.keys} keys, ${status.bytes} bytes`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Puts a backup into a stopped server's data folder (what it had moves aside with --force). */
export function restore(backupDir: string, data: string, force: boolean, out: Out): void {
  const from = path.resolve(backupDir);
  const manifestFile = path.join(from, 'backup.json');
  if (!existsSync(manifestFile)) throw new CliError(`${from} is not a ternmail backup (no backup.json)`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { layout?: string; workers?: number; created: number; keys: number };
  const pidFile = path.join(data, 'ternmail.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (pid > 0 && processAlive(pid)) throw new CliError(`a server (pid ${pid}) is running on ${data}: stop it before restoring`);
  }
  // What the backup holds, as [folder in the backup, folder in the data folder].
  const parts: Array<[string, string]> = manifest.layout === 'cluster'
    ? [['directory', 'directory'], ...Array.from({ length: manifest.workers ?? 0 }, (_, i): [string, string] => [`node-${i + 1}/store`, `node-${i + 1}/store`])]
    : [['store', 'store']];
  for (const [part] of parts) if (!existsSync(path.join(from, part))) throw new CliError(`${from} is incomplete: no ${part}`);
  const present = ['store', 'directory', ...readdirIfAny(data).filter((e) => /^node-\d+$/.test(e))].filter((e) => existsSync(path.join(data, e)));
  if (present.length > 0 && !force) throw new CliError(`${data} holds ${present.join(', ')}: add --force to move them aside and restore`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const entry of present) {
    renameSync(path.join(data, entry), path.join(data, `${entry}.before-restore-${stamp}`));
    out(`moved ${path.join(data, entry)} aside to ${entry}.before-restore-${stamp}`);
  }
  mkdirSync(data, { recursive: true, mode: 0o700 });
  for (const [part, target] of parts) cpSync(path.join(from, part), path.join(data, target), { recursive: true });
  const layout = manifest.layout === 'cluster' ? `a cluster of ${manifest.workers} workers (start it with --workers ${manifest.workers})` : 'one process';
  out(`restored ${manifest.keys} keys from the backup of ${new Date(manifest.created).toISOString()} into ${data}: ${layout}`);
}

function readdirIfAny(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
