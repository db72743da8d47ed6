// Mail forwarded to the worker holding its mailboxes is delivered there without reading
// the delivery marker, unless a copy of the same part reached that worker from the
// accepting one: that happens when the holder answers too late (here: stopped with
// SIGSTOP for longer than the forwarding timeout, cluster.forwardTimeout, 3 s here), so the accepting worker queues
// the part itself and delivers it over the transport while the holder also queued it.
// Every mailbox must still hold the message exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const FORWARD_TIMEOUT_MS = 3000;
const users = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'].map((u) => `${u}@fw.test`);

afterAll(async () => {
  for (const row of await cluster.workers().catch(() => [])) if (row.pid) try { process.kill(row.pid, 'SIGCONT'); } catch { /* gone */ }
  await cluster.destroy();
});

/**
 * Sends one message to every user over a connection whose worker greets within a second
 * (a connection handed to a stopped worker gets no banner: the next one goes to the other).
 * Resolves with the reply to the end of DATA.
 */
async function sendToAll(subject: string): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const socket = net.connect(cluster.ports!.smtp, '127.0.0.1');
    socket.on('error', () => undefined);
    let buffer = '';
    const replies: string[] = [];
    let wake: () => void = () => undefined;
    socket.on('data', (c: Buffer) => {
      buffer += c.toString('latin1');
      for (let m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer); m; m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer)) {
        replies.push(m[0]);
        buffer = buffer.slice(m.index + m[0].length);
      }
      wake();
    });
    const reply = async (timeoutMs: number): Promise<string | null> => {
      const deadline = Date.now() + timeoutMs;
      while (replies.length === 0 && Date.now() < deadline && !socket.destroyed) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return replies.shift() ?? null;
    };
    if ((await reply(1000)) === null) {
      socket.destroy();
      continue;
    }
    socket.write('EHLO fw.test\r\n');
    await reply(5000);
    socket.write('MAIL FROM:<someone@remote.test>\r\n');
    await reply(5000);
    for (const user of users) {
      socket.write(`RCPT TO:<${user}>\r\n`);
      expect(await reply(5000)).toMatch(/^250/);
    }
    socket.write('DATA\r\n');
    expect(await reply(5000)).toMatch(/^354/);
    socket.write(`Subject: ${subject}\r\n\r\nbody\r\n.\r\n`);
    const end = await reply(60_000);
    socket.end('QUIT\r\n');
    return end ?? 'no reply';
  }
  throw new Error('no worker greeted');
}

describe('forwarded mail and the delivery marker (ternmail start --workers 2)', () => {
  it('stores a part once when the holder queued it and the accepting worker queued its own copy after a timeout', async () => {
    await cluster.start({ env: { TERNMAIL_FORWARD_TIMEOUT: String(FORWARD_TIMEOUT_MS) } });
    await cluster.addUsers('fw.test', users);
    await new Promise((r) => setTimeout(r, 1000));
    const acked = new Set<string>();
    // The first message places the six mailboxes, three on each worker.
    expect(await sendToAll('m0')).toMatch(/^250/);
    acked.add('m0');
    await cluster.waitDelivered(6);
    const rows = await cluster.waitForWorkers((r) => r.reduce((n, w) => n + w.mailboxes, 0) === users.length);
    expect(rows.map((r) => r.mailboxes)).toEqual([3, 3]);

    // The second: whichever worker accepts it forwards three recipients to the other,
    // which is stopped; after the timeout the accepting worker queues them itself and answers.
    const stopped = rows[1].pid!;
    const accepting = sendToAll('m1');
    process.kill(stopped, 'SIGSTOP');
    let reply: string;
    try {
      reply = await accepting;
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
    expect(reply).toMatch(/^250/);
    acked.add('m1');
    await cluster.waitDelivered(12, 90_000);
    for (const user of users) expectExactlyOnce(await cluster.subjects([user]), acked);
    // The accepting worker did queue its own copy (so both copies existed).
    expect(cluster.output).toContain('forwarding to the mailbox node failed; queued here');
  }, 180_000);
});
