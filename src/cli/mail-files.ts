// Mail on disk, in the two formats other servers read and write: mbox (mboxrd: one
// file per folder, `From ` lines quoted with `>`, flags in Status/X-Status headers as
// Dovecot and mutt write them) and Maildir (Maildir++: INBOX at the root, a folder
// `a/b` in `.a.b`, flags in the file name after `:2,`, the date as the file's mtime).
// Pure conversions between those and (message, flags, date); the command reads and
// writes the files.
import { createReadStream, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

export interface MailFile {
  folder: string;
  /** The message with CRLF line ends, as IMAP holds it. */
  message: Buffer;
  flags: string[];
  internalDate: number;
}

const maildirLetters: Array<[string, string]> = [['\\Draft', 'D'], ['\\Flagged', 'F'], ['\\Answered', 'R'], ['\\Seen', 'S'], ['\\Deleted', 'T']];

function toLf(message: Buffer): Buffer {
  return Buffer.from(message.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}

function toCrlf(text: string): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}

// ---- Maildir ----

export function maildirFolderPath(root: string, folder: string): string {
  return folder === 'INBOX' ? root : path.join(root, `.${folder.replace(/\./g, '_').split('/').join('.')}`);
}

export function maildirFlags(flags: string[]): string {
  return maildirLetters.filter(([flag]) => flags.includes(flag)).map(([, letter]) => letter).join('');
}

export function writeMaildirMessage(root: string, mail: MailFile, uid: number): string {
  const dir = maildirFolderPath(root, mail.folder);
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(dir, sub), { recursive: true });
  const file = path.join(dir, 'cur', `${Math.floor(mail.internalDate / 1000)}.M${uid}P${process.pid}.ternmail:2,${maildirFlags(mail.flags)}`);
  writeFileSync(file, toLf(mail.message));
  const seconds = mail.internalDate / 1000;
  utimesSync(file, seconds, seconds);
  return file;
}

/** One message file of a Maildir++ tree, read only when its turn comes. */
export interface MaildirFile {
  folder: string;
  file: string;
  flags: string[];
}

/** Every message file of a Maildir++ tree (INBOX at the root, `.a.b` as `a/b`), without reading them. */
export function listMaildir(root: string): MaildirFile[] {
  if (!existsSync(path.join(root, 'cur')) && !existsSync(path.join(root, 'new'))) throw new Error(`${root} is not a Maildir (no cur/ or new/)`);
  const folders: Array<[string, string]> = [['INBOX', root]];
  for (const entry of readdirSync(root)) {
    if (entry.startsWith('.') && entry !== '.' && entry !== '..' && statSync(path.join(root, entry)).isDirectory()) {
      folders.push([entry.slice(1).split('.').join('/'), path.join(root, entry)]);
    }
  }
  const files: MaildirFile[] = [];
  for (const [folder, dir] of folders) {
    for (const sub of ['new', 'cur']) {
      const subdir = path.join(dir, sub);
      if (!existsSync(subdir)) continue;
      for (const name of readdirSync(subdir).sort()) {
        const info = name.includes(':2,') ? name.slice(name.indexOf(':2,') + 3) : '';
        files.push({ folder, file: path.join(subdir, name), flags: maildirLetters.filter(([, letter]) => info.includes(letter)).map(([flag]) => flag) });
      }
    }
  }
  return files;
}

export function readMaildirFile(entry: MaildirFile): MailFile {
  return { folder: entry.folder, message: toCrlf(readFileSync(entry.file, 'latin1')), flags: entry.flags, internalDate: Math.round(statSync(entry.file).mtimeMs) };
}

// ---- mbox (mboxrd) ----

function asctime(time: number): string {
  // `From sender Thu Dec  3 12:00:00 2026`, in UTC.
  const d = new Date(time);
  const day = d.toUTCString().slice(0, 3);
  const month = d.toUTCString().slice(8, 11);
  return `${day} ${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`;
}

function statusHeaders(flags: string[]): string {
  const status = (flags.includes('\\Seen') ? 'R' : '') + 'O';
  const x = (flags.includes('\\Answered') ? 'A' : '') + (flags.includes('\\Flagged') ? 'F' : '') + (flags.includes('\\Deleted') ? 'D' : '') + (flags.includes('\\Draft') ? 'T' : '');
  return `Status: ${status}\n` + (x ? `X-Status: ${x}\n` : '');
}

/** One message as an mbox entry: From_ line, Status headers, the body with `From ` lines quoted. */
export function mboxEntry(mail: MailFile, sender: string): Buffer {
  const text = toLf(mail.message).toString('latin1');
  const quoted = text.replace(/^(>*From )/gm, '>$1');
  const body = quoted.endsWith('\n') ? quoted : `${quoted}\n`;
  return Buffer.from(`From ${sender || 'MAILER-DAEMON'} ${asctime(mail.internalDate)}\n${statusHeaders(mail.flags)}${body}\n`, 'latin1');
}

export function mboxFileName(folder: string): string {
  return `${folder.split('/').join('.')}.mbox`;
}

/**
 * The messages of an mbox file, one at a time as the file is read (a mailbox of many
 * gigabytes never sits in memory); with each, how many bytes of the file are read so
 * far. Status/X-Status become flags and are removed.
 */
export async function* readMbox(file: string, folder: string): AsyncGenerator<{ mail: MailFile; bytesRead: number }> {
  const stream = createReadStream(file, { encoding: 'latin1', highWaterMark: 1 << 20 });
  let bytesRead = 0;
  let rest = '';
  let fromLine: string | null = null;
  let lines: string[] = [];
  let previousBlank = true;
  for await (const chunk of stream as AsyncIterable<string>) {
    bytesRead += chunk.length;
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      // An entry ends with the blank line before the next From_ line (or the end of the file).
      if (previousBlank && line.startsWith('From ')) {
        if (fromLine !== null) yield { mail: mboxMessage(fromLine, lines.slice(0, -1), folder), bytesRead };
        fromLine = line;
        lines = [];
      } else if (fromLine !== null) {
        lines.push(line);
      }
      previousBlank = line === '';
    }
  }
  if (fromLine !== null) {
    if (rest !== '') lines.push(rest);
    if (lines[lines.length - 1] === '') lines.pop();
    yield { mail: mboxMessage(fromLine, lines, folder), bytesRead };
  }
}

function mboxMessage(fromLine: string, lines: string[], folder: string): MailFile {
  const flags = new Set<string>();
  const headerEnd = lines.indexOf('');
  const header = headerEnd >= 0 ? lines.slice(0, headerEnd) : lines;
  const kept = header.filter((line) => {
    const status = /^Status: *(\S*)/i.exec(line);
    const xstatus = /^X-Status: *(\S*)/i.exec(line);
    if (status) { if (status[1].includes('R')) flags.add('\\Seen'); return false; }
    if (xstatus) {
      for (const [letter, flag] of [['A', '\\Answered'], ['F', '\\Flagged'], ['D', '\\Deleted'], ['T', '\\Draft']]) if (xstatus[1].includes(letter)) flags.add(flag);
      return false;
    }
    return true;
  });
  const entry = [...kept, ...(headerEnd >= 0 ? lines.slice(headerEnd) : [])].join('\n') + '\n';
  const unquoted = entry.replace(/^>(>*From )/gm, '$1');
  const date = Date.parse(`${fromLine.split(' ').slice(2).join(' ')} UTC`);
  return { folder, message: toCrlf(unquoted), flags: [...flags], internalDate: Number.isNaN(date) ? Date.now() : date };
}
