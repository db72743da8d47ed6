// `ternmail user import FILE`: reads `address password` lines or JSON lines, sends
// them to the server in batches, shows progress on a terminal and prints a summary
// with the reason for every skipped line.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { callAdmin, CliError, type AdminTarget } from './admin-client.js';

interface ImportUser {
  address: string;
  password?: string;
  passwordHash?: string;
  quota?: number;
}

type Parsed = { ok: true; user: ImportUser } | { ok: false; reason: string } | null;

const BATCH = 1000;

export function parseImportLine(raw: string): Parsed {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return null;
  if (line.startsWith('{')) {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'invalid JSON' };
    }
    const address = value.address ?? value.email;
    if (typeof address !== 'string') return { ok: false, reason: 'missing "address"' };
    const user: ImportUser = { address };
    if (typeof value.password === 'string') user.password = value.password;
    if (typeof value.passwordHash === 'string') user.passwordHash = value.passwordHash;
    if (typeof value.quota === 'number') user.quota = value.quota;
    if (user.password === undefined && user.passwordHash === undefined) return { ok: false, reason: 'missing "password"' };
    return { ok: true, user };
  }
  const parts = line.split(/\s+/);
  if (parts.length < 2) return { ok: false, reason: 'expected "address password"' };
  if (parts.length > 2) return { ok: false, reason: 'too many fields (passwords with spaces need JSON lines)' };
  const [address, secret] = parts;
  return { ok: true, user: secret.startsWith('$scrypt$') ? { address, passwordHash: secret } : { address, password: secret } };
}

interface Skipped {
  line: number;
  text: string;
  reason: string;
}

function drawProgress(done: number, total: number | null, started: number): void {
  const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
  const width = 30;
  const bar = total ? '#'.repeat(Math.round((done / total) * width)).padEnd(width, '.') : '';
  process.stderr.write(`\r[${bar}] ${done}${total ? '/' + total : ''} users  ${rate}/s `);
}

export async function importUsers(target: AdminTarget, file: string, out: (line: string) => void): Promise<number> {
  const skipped: Skipped[] = [];
  let added = 0;
  let processed = 0;
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  let batch: Array<{ line: number; user: ImportUser }> = [];

  const send = async () => {
    if (batch.length === 0) return;
    const results = await callAdmin<Array<{ line: number; status: string; reason?: string }>>(
      target, 'POST', '/v1/users/import', { users: batch.map((b) => b.user) });
    results.forEach((result, i) => {
      if (result.status === 'added') added += 1;
      else skipped.push({ line: batch[i].line, text: batch[i].user.address, reason: result.reason ?? 'skipped' });
    });
    processed += batch.length;
    batch = [];
    if (tty) drawProgress(processed, null, started);
  };

  let input;
  try {
    input = createReadStream(file);
    await new Promise((resolve, reject) => input!.once('open', resolve).once('error', reject));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let lineNo = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    lineNo += 1;
    const parsed = parseImportLine(raw);
    if (parsed === null) continue;
    if (!parsed.ok) {
      skipped.push({ line: lineNo, text: raw.split(/\s+/)[0] ?? '', reason: parsed.reason });
      continue;
    }
    batch.push({ line: lineNo, user: parsed.user });
    if (batch.length >= BATCH) await send();
  }
  await send();
  if (tty) process.stderr.write('\n');
  const seconds = (Date.now() - started) / 1000;
  out(`imported: ${added} added, ${skipped.length} skipped in ${seconds.toFixed(1)} s (${Math.round(added / Math.max(seconds, 0.001))} users/s)`);
  for (const s of skipped.sort((a, b) => a.line - b.line)) out(`  line ${s.line}: ${s.text}: ${s.reason}`);
  return skipped.length;
}
