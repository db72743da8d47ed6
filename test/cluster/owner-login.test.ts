// The session proxy's login on the node holding a mailbox sends its login with the
// connection, without waiting for the greeting: a relay is set up in one round trip.
// Against a raw socket server that greets only once the login has arrived (a server
// may read ahead; ours does), the login completes; the server sees it first.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loginOnOwner } from '../../src/cluster/owner-login.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server that answers only after the first line from the client: `greeting` then `answer`. */
async function greetsAfterLogin(greeting: string, answer: (line: string) => string): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n');
      if (end < 0 || seen.length > 0) return;
      const line = buffered.slice(0, end);
      seen.push(line);
      socket.write(`${greeting}\r\n${answer(line)}\r\n`);
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, seen };
}

describe('the session proxy logging in on the owner node', () => {
  it('sends the IMAP login before the greeting arrives', async () => {
    const owner = await greetsAfterLogin('* OK owner ready', (line) => (line.startsWith('P1 AUTHENTICATE PLAIN ') ? 'P1 OK logged in' : 'P1 NO what'));
    const login = await loginOnOwner('imap', { host: '127.0.0.1', port: owner.port }, 'ann@x.test', 'ticket', 3000);
    expect(login.ok).toBe(true);
    if (login.ok) login.socket.destroy();
    const [, user, ticket] = Buffer.from(owner.seen[0]!.split(' ')[3]!, 'base64').toString('utf8').split('\0');
    expect([user, ticket]).toEqual(['ann@x.test', 'ticket']);
  });

  it('sends the POP3 login before the greeting arrives, and hands the owner\'s answer to the client', async () => {
    const owner = await greetsAfterLogin('+OK owner ready', (line) => (line.startsWith('AUTH PLAIN ') ? '+OK maildrop has 0 messages' : '-ERR what'));
    const login = await loginOnOwner('pop3', { host: '127.0.0.1', port: owner.port }, 'bo@x.test', 'ticket', 3000);
    expect(login.ok).toBe(true);
    if (login.ok) {
      expect(login.forward.toString()).toBe('+OK maildrop has 0 messages\r\n');
      login.socket.destroy();
    }
  });
});
