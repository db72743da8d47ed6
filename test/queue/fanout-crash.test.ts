// Fan-out across kill -9: large bodies (stored once, deflated, with a reference per
// recipient) sent to 20 recipients per transaction by two connections; the server is
// killed in the middle. After a restart every message acknowledged with 250 is in every
// recipient's mailbox exactly once, and reads back byte for byte (its body's SHA-256 is
// in a header, checked over POP3 by Python's poplib).
import { afterAll, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, startProcess } from '../support/process.js';

const data = tempDir();
afterAll(() => rmSync(data, { recursive: true, force: true }));

const USERS = 20;

/** About 100 KiB: a base64 attachment of random bytes, its SHA-256 (over the body) in X-Body-Sha. */
function message(id: string): string {
  const body = randomBytes(75_000).toString('base64').match(/.{1,76}/g)!.join('\r\n') + '\r\n';
  const sum = createHash('sha256').update(body).digest('hex');
  return `Subject: ${id}\r\nX-Body-Sha: ${sum}\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}`;
}

/** One pipelining connection sending fan-out transactions back to back; records each acknowledged id. */
async function sendUntilKilled(port: number, lane: number, acked: Set<string>): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  socket.on('error', () => undefined);
  let buffer = '';
  const replies: string[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer); m; m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer)) {
      replies.push(m[0]);
      buffer = buffer.slice(m.index + m[0].length);
    }
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const reply = async (): Promise<string> => {
    while (replies.length === 0) {
      if (closed) throw new Error('closed');
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
    return replies.shift()!;
  };
  try {
    await reply();
    socket.write('EHLO fanout.test\r\n');
    await reply();
    for (let i = 0; ; i++) {
      const id = `l${lane}-m${i}`;
      const rcpts = Array.from({ length: USERS }, (_, u) => `RCPT TO:<u${u}@fanout.test>\r\n`).join('');
      socket.write(`MAIL FROM:<load@remote.test>\r\n${rcpts}DATA\r\n`);
      for (let n = 0; n < USERS + 2; n++) await reply();
      socket.write(`${message(id)}.\r\n`);
      if ((await reply()).startsWith('250')) acked.add(id);
    }
  } catch {
    // the server was killed: stop sending
  } finally {
    socket.destroy();
  }
}

it('keeps every acknowledged fan-out message in every mailbox across kill -9, exactly once and intact', async () => {
  const first = await startProcess(data);
  await cli(['domain', 'add', 'fanout.test', '--data', data]);
  const users = path.join(data, 'users.txt');
  writeFileSync(users, Array.from({ length: USERS }, (_, u) => `u${u}@fanout.test pw\n`).join(''));
  await cli(['user', 'import', users, '--data', data]);

  const acked = new Set<string>();
  const lanes = [0, 1].map((lane) => sendUntilKilled(first.ports.smtp, lane, acked));
  while (acked.size < 30) await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGKILL');
  await first.exited;
  await Promise.all(lanes);

  const second = await startProcess(data);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = JSON.parse((await cli(['stats', '--data', data])).stdout);
      if (stats.queued === 0 && stats.messages >= acked.size * USERS) break;
      if (Date.now() > deadline) throw new Error(`not delivered: ${JSON.stringify(stats)} acked=${acked.size}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { stdout, code, stderr } = await python(`
import poplib, sys, json, hashlib
found = {}
for u in range(${USERS}):
    p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
    p.user('u%d@fanout.test' % u); p.pass_('pw')
    ids = []
    for i in range(p.stat()[0]):
        lines = p.retr(i + 1)[1]
        blank = lines.index(b'')
        head = {l.split(b': ', 1)[0]: l.split(b': ', 1)[1] for l in lines[:blank] if b': ' in l}
        body = b''.join(l + b'\\r\\n' for l in lines[blank + 1:])
        intact = hashlib.sha256(body).hexdigest() == head[b'X-Body-Sha'].decode()
        ids.append([head[b'Subject'].decode(), intact])
    p.quit()
    found[u] = ids
print(json.dumps(found))
`, [String(second.ports.pop3)]);
    expect(code, stderr).toBe(0);
    const found: Record<string, Array<[string, boolean]>> = JSON.parse(stdout);
    for (let u = 0; u < USERS; u++) {
      const ids = found[u].map(([id]) => id);
      expect(found[u].filter(([, intact]) => !intact)).toEqual([]);
      expect([...acked].filter((id) => !ids.includes(id))).toEqual([]);
      expect(ids.length).toBe(new Set(ids).size);
    }
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
}, 120_000);
