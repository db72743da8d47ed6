// The command table's rules and the session's one hook point, over a real socket pair:
// a before hook can refuse any command (the handler never runs), an after hook sees each
// tagged completion, the table refuses a command outside its states, and FETCH, STORE
// and SEARCH allow expunge reports only in their UID form.
import net from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ImapSession } from '../../src/imap/session.js';
import { IMAP_LIMITS, type ImapSessionDeps } from '../../src/imap/deps.js';
import { ConnectionLimiter } from '../../src/net/connection-limiter.js';
import { expungeAllowedAfter } from '../../src/imap/command-rules.js';
import { COMMANDS } from '../../src/imap/commands/index.js';
import { no } from '../../src/imap/commands/command.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length > 0) cleanups.pop()!(); });

async function socketPair(): Promise<{ server: net.Socket; client: net.Socket; received: () => string }> {
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, 'connection');
  const client = net.connect(port, '127.0.0.1');
  const [server] = await accepted as [net.Socket];
  let text = '';
  client.on('data', (chunk) => { text += String(chunk); });
  cleanups.push(() => { client.destroy(); server.destroy(); listener.close(); });
  return { server, client, received: () => text };
}

function sessionOn(socket: net.Socket): ImapSession {
  // These commands never reach below the session: an empty backend stands for it.
  const deps = {
    backend: {}, limiter: new ConnectionLimiter({ perIp: 10, total: { smtp: 10, imap: 10, pop3: 10 } }),
    log: pino({ level: 'silent' }), limits: IMAP_LIMITS, allowPlaintextAuth: false,
  } as unknown as ImapSessionDeps;
  return new ImapSession(socket, deps);
}

async function until(received: () => string, text: string): Promise<void> {
  for (let i = 0; i < 200 && !received().includes(text); i++) await new Promise((r) => setTimeout(r, 5));
  expect(received()).toContain(text);
}

describe('IMAP command rules and hooks', () => {
  it('runs before hooks, which may refuse a command, and after hooks with the completion', async () => {
    const { server, received } = await socketPair();
    const session = sessionOn(server);
    const seen: string[] = [];
    session.beforeCommand.push((_ctx, spec) => (spec.name === 'CAPABILITY' ? no('refused by policy') : undefined));
    session.afterCommand.push((ctx, spec, command, completion) => {
      seen.push(`${command.tag} ${spec.name} ${completion.status} ${ctx.state}`);
    });
    await session.runCommand({ tag: 'a1', name: 'CAPABILITY' });
    await session.runCommand({ tag: 'a2', name: 'NOOP' });
    await until(received, 'a2 OK');
    expect(received()).toContain('a1 NO refused by policy');
    expect(received()).not.toContain('* CAPABILITY');
    // A refused command never completed: the after hooks saw only NOOP.
    expect(seen).toEqual(['a2 NOOP OK not-authenticated']);
  });

  it('refuses a command outside the states its spec declares, before any hook', async () => {
    const { server, received } = await socketPair();
    const session = sessionOn(server);
    let hooked = 0;
    session.beforeCommand.push(() => { hooked++; });
    await session.runCommand({ tag: 'b1', name: 'UNSELECT' });
    await until(received, 'b1 BAD UNSELECT is not valid in the not-authenticated state');
    expect(hooked).toBe(0);
  });

  it('declares the per-command rules in the table', () => {
    for (const name of ['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'EXPUNGE', 'CLOSE', 'UNSELECT', 'CHECK'] as const) {
      expect(COMMANDS.get(name)?.needsSelected, name).toBe(true);
    }
    const fetch = COMMANDS.get('FETCH');
    expect(expungeAllowedAfter(fetch, { tag: 'c', name: 'FETCH', uid: false } as never)).toBe(false);
    expect(expungeAllowedAfter(fetch, { tag: 'c', name: 'FETCH', uid: true } as never)).toBe(true);
    expect(expungeAllowedAfter(COMMANDS.get('NOOP'), { tag: 'c', name: 'NOOP' })).toBe(true);
    expect(COMMANDS.get('SEARCH')?.allowExpungeDuring).toBe('uid');
    expect(COMMANDS.get('STORE')?.allowExpungeDuring).toBe('uid');
  });
});
