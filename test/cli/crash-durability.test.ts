// Durability: every message acknowledged with 250 before a kill -9 of the server
// process is in its mailbox after a restart, exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, startProcess } from '../support/process.js';

const data = tempDir();
afterAll(() => rmSync(data, { recursive: true, force: true }));

/** One SMTP connection sending messages back to back; records each acknowledged id. */
async function sendUntilClosed(port: number, worker: number, acked: Set<string>, stopAfter: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let buffer = '';
  const waitLine = () => new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer);
      if (m) {
        buffer = buffer.slice(m.index + m[0].length);
        socket.off('data', onData);
        socket.off('close', onClose);
        return resolve(m[0]);
      }
    };
    const onData = (c: string) => {
      buffer += c;
      check();
    };
    const onClose = () => reject(new Error('closed'));
    socket.on('data', onData);
    socket.once('close', onClose);
    check();
  });
  socket.on('error', () => undefined);
  try {
    await waitLine();
    socket.write('EHLO crash.test\r\n');
    await waitLine();
    for (let i = 0; i < stopAfter; i++) {
      const id = `w${worker}-m${i}`;
      socket.write(`MAIL FROM:<load@remote.test>\r\nRCPT TO:<u${worker % 4}@crash.test>\r\nDATA\r\n`);
      await waitLine();
      await waitLine();
      await waitLine();
      socket.write(`Subject: ${id}\r\nMessage-ID: <${id}@crash.test>\r\n\r\n${'x'.repeat(2000)}\r\n.\r\n`);
      const reply = await waitLine();
      if (reply.startsWith('250')) acked.add(id);
    }
  } catch {
    // the server was killed: stop sending
  } finally {
    socket.destroy();
  }
}

describe('crash durability', () => {
  it('keeps every acknowledged message across kill -9, exactly once', async () => {
    const first = await startProcess(data);
    await cli(['domain', 'add', 'crash.test', '--data', data]);
    for (let u = 0; u < 4; u++) await cli(['user', 'add', `u${u}@crash.test`, '--password', 'pw', '--data', data]);

    const acked = new Set<string>();
    const senders = Array.from({ length: 8 }, (_, w) => sendUntilClosed(first.ports.smtp, w, acked, 10_000));
    while (acked.size < 300) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(senders);
    expect(acked.size).toBeGreaterThanOrEqual(300);

    const second = await startProcess(data);
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const stats = JSON.parse((await cli(['stats', '--data', data])).stdout);
        if (stats.queued === 0 && stats.messages >= acked.size) break;
        if (Date.now() > deadline) throw new Error(`not delivered: ${JSON.stringify(stats)} acked=${acked.size}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const { stdout, code, stderr } = await python(`
import poplib, sys, json
ids = []
for u in range(4):
    p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
    p.user('u%d@crash.test' % u); p.pass_('pw')
    for i in range(p.stat()[0]):
        for line in p.top(i + 1, 0)[1]:
            if line.startswith(b'Subject: '):
                ids.append(line[9:].decode())
    p.quit()
print(json.dumps(ids))
`, [String(second.ports.pop3)]);
      expect(code, stderr).toBe(0);
      const stored: string[] = JSON.parse(stdout);
      const counts = new Map<string, number>();
      for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
      const missing = [...acked].filter((id) => !counts.has(id));
      const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
      expect(missing).toEqual([]);
      expect(duplicated).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);
});
