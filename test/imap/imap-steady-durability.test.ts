// Durability under the steady IMAP mix (issue 16): sessions kept open, two per mailbox,
// APPEND and STORE back to back until the server is killed with SIGKILL. An APPEND stores
// its body in the message's own synced batch and the mailbox groups nothing it has not
// synced: every APPEND answered OK is there after the restart, once, with its body, and
// every flag a STORE answered OK for is set.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { LineClient, python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';

const data = tempDir();
afterAll(() => rmSync(data, { recursive: true, force: true }));
const running = killAfterEach(afterEach);

interface Acked {
  /** Subject of every message whose APPEND was answered OK, by user. */
  appended: Map<string, Set<string>>;
  /** `subject keyword` of every STORE answered OK. */
  flagged: Map<string, Set<string>>;
}

/** One session: APPEND a message, then STORE a keyword on it by UID, until the connection dies. */
async function appendAndFlag(port: number, user: string, session: number, acked: Acked): Promise<void> {
  const line = await LineClient.connect(port).catch(() => null);
  if (line === null) return;
  let tag = 0;
  const run = async (command: string | Buffer): Promise<string> => {
    const t = `s${session}x${++tag}`;
    line.send(Buffer.concat([Buffer.from(`${t} `), Buffer.isBuffer(command) ? command : Buffer.from(`${command}\r\n`)]));
    return line.expect(new RegExp(`(^|\\r\\n)${t} (OK|NO|BAD)[^\\r\\n]*\\r\\n`), 20_000);
  };
  try {
    await line.expect(/^\* OK .*\r\n/);
    await run(`LOGIN ${user} pw`);
    await run('SELECT INBOX');
    for (let i = 0; ; i++) {
      const subject = `${user}-s${session}-m${i}`;
      const body = `Subject: ${subject}\r\nMessage-ID: <${subject}@steady.test>\r\n\r\n${'steady body '.repeat(40)}${subject}\r\n`;
      const appended = await run(Buffer.concat([Buffer.from(`APPEND INBOX {${Buffer.byteLength(body)}+}\r\n`), Buffer.from(body), Buffer.from('\r\n')]));
      const uid = /OK \[APPENDUID \d+ (\d+)\]/.exec(appended)?.[1];
      if (uid === undefined) continue;
      acked.appended.get(user)!.add(subject);
      const keyword = `$K${i % 7}`;
      const stored = await run(`UID STORE ${uid} +FLAGS.SILENT (${keyword})`);
      if (/ OK /.test(stored.split('\r\n').at(-2) ?? '')) acked.flagged.get(user)!.add(`${subject} ${keyword}`);
    }
  } catch {
    // the server was killed: this session stops
  } finally {
    line.close();
  }
}

/** Starts the server again on its data; free ports picked now may be taken by another process first. */
async function restart(dir: string): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startProcess(dir);
    } catch (err) {
      if (attempt >= 3 || !/already in use/.test(String(err))) throw err;
    }
  }
}

describe('IMAP steady load across kill -9', () => {
  it('keeps every acknowledged APPEND (once, with its body) and every acknowledged STORE of sessions sharing mailboxes', async () => {
    const first = await startProcess(data);
    running.push(first);
    await cli(['domain', 'add', 'steady.test', '--data', data]);
    const users = ['ann@steady.test', 'bob@steady.test', 'cy@steady.test'];
    for (const user of users) await cli(['user', 'add', user, '--password', 'pw', '--data', data]);

    const acked: Acked = { appended: new Map(users.map((u) => [u, new Set()])), flagged: new Map(users.map((u) => [u, new Set()])) };
    // Two sessions per mailbox: their commits meet in the same synced batches.
    const sessions = users.flatMap((user, u) => [0, 1].map((s) => appendAndFlag(first.ports.imap, user, u * 2 + s, acked)));
    const count = () => [...acked.flagged.values()].reduce((n, set) => n + set.size, 0);
    while (count() < 150) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(sessions);

    const second = await restart(data);
    running.push(second);
    const { stdout, code, stderr } = await python(`
import imaplib, sys, json, re
out = {}
for user in sys.argv[2:]:
    m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
    m.login(user, 'pw')
    m.select('INBOX', readonly=True)
    typ, items = m.fetch('1:*', '(FLAGS BODY.PEEK[])')
    found = []
    for item in items:
        if isinstance(item, tuple):
            found.append({'meta': item[0].decode('latin1'), 'data': item[1].decode('latin1')})
        elif found:
            found[-1]['meta'] += item.decode('latin1')
    for f in found:
        f['flags'] = re.search(r'FLAGS \\(([^)]*)\\)', f.pop('meta')).group(1).split()
    out[user] = found
    m.logout()
print(json.dumps(out))
`, [String(second.ports.imap), ...users]);
    expect(code, stderr).toBe(0);
    const stored: Record<string, Array<{ data: string; flags: string[] }>> = JSON.parse(stdout);
    for (const user of users) {
      const subjects = new Map<string, number>();
      const flagsOf = new Map<string, string[]>();
      const bodies = new Map<string, string>();
      for (const { data, flags } of stored[user]!) {
        const subject = /Subject: (\S+)/.exec(data)?.[1] ?? '?';
        subjects.set(subject, (subjects.get(subject) ?? 0) + 1);
        flagsOf.set(subject, flags);
        bodies.set(subject, data);
      }
      const missing = [...acked.appended.get(user)!].filter((s) => !subjects.has(s));
      const twice = [...subjects].filter(([, n]) => n > 1).map(([s]) => s);
      const bodiesWrong = [...acked.appended.get(user)!].filter((s) => !(bodies.get(s) ?? '').endsWith(`${s}\r\n`));
      const flagsLost = [...acked.flagged.get(user)!].filter((entry) => {
        const [subject, keyword] = entry.split(' ');
        return !(flagsOf.get(subject!) ?? []).includes(keyword!);
      });
      expect({ user, missing, twice, bodiesWrong, flagsLost }).toEqual({ user, missing: [], twice: [], bodiesWrong: [], flagsLost: [] });
      expect(acked.appended.get(user)!.size).toBeGreaterThan(0);
    }
  }, 120_000);
});
