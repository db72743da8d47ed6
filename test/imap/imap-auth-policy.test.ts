// Authentication policy of an IMAP session, without a network: plaintext LOGIN and
// AUTHENTICATE PLAIN are refused with [PRIVACYREQUIRED] (and LOGINDISABLED advertised)
// for a remote client without TLS; each login attempt is logged, never the password.
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ImapSession } from '../../src/imap/session.js';
import { IMAP_LIMITS, type ImapSessionDeps } from '../../src/imap/deps.js';
import { ConnectionLimiter } from '../../src/net/connection-limiter.js';
import { AuthGuard } from '../../src/net/auth-guard.js';
import { MailboxBackend, type MailboxBackendServices } from '../../src/imap/mailbox-backend.js';
import { login } from '../../src/imap/commands/login.js';
import { authenticate } from '../../src/imap/commands/authenticate.js';
import type { Completion } from '../../src/imap/commands/command.js';

function sessionFor(allowPlaintextAuth: boolean, lines: string[]): ImapSession {
  const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
  const backend = new MailboxBackend({
    directory: { authenticate: async () => null, cache: { user: () => undefined } },
    mailboxes: {}, blobs: {},
    auth: new AuthGuard({ maxFailuresPerIp: 10, maxFailuresPerAccount: 10, delayAfter: 10, lockSeconds: 60 }, pino({ level: 'silent' })),
    log: pino({ level: 'silent' }),
  } as unknown as MailboxBackendServices);
  const deps: ImapSessionDeps = {
    backend, limiter: new ConnectionLimiter({ perIp: 10, total: { smtp: 10, imap: 10, pop3: 10 } }),
    log: pino({ level: 'info' }, sink), limits: IMAP_LIMITS, allowPlaintextAuth,
  };
  // An unconnected socket has no loopback address: it stands for a remote client.
  return new ImapSession(new net.Socket(), deps);
}

describe('IMAP authentication policy', () => {
  it('refuses plaintext credentials from a remote client without TLS', async () => {
    const session = sessionFor(false, []);
    expect(session.capabilities()).toContain('LOGINDISABLED');
    expect(session.capabilities()).not.toContain('AUTH=PLAIN');
    const viaLogin = await login.handle(session, { tag: 'a', name: 'LOGIN', username: 'u@x.test', password: 'p' }) as Completion;
    expect(viaLogin).toMatchObject({ status: 'NO', code: { code: 'PRIVACYREQUIRED' } });
    const viaSasl = await authenticate.handle(session, { tag: 'b', name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: 'AHVAeC50ZXN0AHA=' }) as Completion;
    expect(viaSasl).toMatchObject({ status: 'NO', code: { code: 'PRIVACYREQUIRED' } });
  });

  it('logs a failed login with the user and address but not the password', async () => {
    const lines: string[] = [];
    const session = sessionFor(true, lines);
    expect(session.capabilities()).toContain('AUTH=PLAIN');
    const result = await login.handle(session, { tag: 'a', name: 'LOGIN', username: 'u@x.test', password: 'sekrit-pw' }) as Completion;
    expect(result).toMatchObject({ status: 'NO', code: { code: 'AUTHENTICATIONFAILED' } });
    expect(lines.join('')).toContain('imap login failed');
    expect(lines.join('')).toContain('u@x.test');
    expect(lines.join('')).not.toContain('sekrit-pw');
  });
});
