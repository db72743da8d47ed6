// Failed-login limits in `ternmail start --workers 2`: the primary hands connections to
// the workers in turn, so limits counted per worker would let an attacker spread guesses
// over them. The primary's guard decides for all: the counts and locks are the cluster's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';
import { imapLogin, pop3Login } from '../support/logins.js';

const cluster = new TestCluster();

beforeAll(async () => {
  await cluster.start({
    workers: 2,
    env: { TERNMAIL_MAX_AUTH_FAILURES_PER_IP: '4', TERNMAIL_MAX_AUTH_FAILURES_PER_ACCOUNT: '3', TERNMAIL_AUTH_DELAY_AFTER: '100' },
  });
  await cluster.addUsers('shared.test', ['carol@shared.test', 'dave@shared.test']);
}, 60_000);

afterAll(async () => cluster.destroy());

describe('auth limits across workers', () => {
  it('counts failures from one address on every worker together', async () => {
    const imap = cluster.ports!.imap;
    const accounts = ['u1', 'u2', 'u3', 'u4'].map((u) => `${u}@shared.test`);
    for (const account of accounts) expect(await imapLogin(imap, account, 'guess', '127.0.0.50')).toContain('[AUTHENTICATIONFAILED]');
    // Four more connections reach both workers: each refuses without checking the password.
    for (let i = 0; i < 4; i++) expect(await imapLogin(imap, 'dave@shared.test', 'pw', '127.0.0.50')).toContain('[UNAVAILABLE]');
    expect(await imapLogin(imap, 'dave@shared.test', 'pw', '127.0.0.51')).toMatch(/^a1 OK /);
  });

  it('locks an account guessed at over both workers, for every worker and protocol', async () => {
    const imap = cluster.ports!.imap;
    for (let i = 0; i < 3; i++) expect(await imapLogin(imap, 'carol@shared.test', `guess${i}`, `127.0.0.${60 + i}`)).toContain('[AUTHENTICATIONFAILED]');
    for (let i = 0; i < 4; i++) {
      expect(await imapLogin(imap, 'carol@shared.test', 'pw', `127.0.0.${70 + i}`)).toBe('a1 NO [UNAVAILABLE] Too many failed logins, try again later');
      expect(await pop3Login(cluster.ports!.pop3, 'carol@shared.test', 'pw', `127.0.0.${80 + i}`)).toBe('-ERR [AUTH] too many failed logins, try later');
    }
    const listed = await cluster.cli(['auth', 'blocked']);
    expect(listed.stdout).toMatch(/^account\s+carol@shared\.test\s+3\s+\d+s$/m);
    expect(listed.stdout).toMatch(/^ip\s+127\.0\.0\.50\s+4\s+\d+s$/m);

    expect((await cluster.cli(['auth', 'unblock', 'carol@shared.test'])).code).toBe(0);
    for (let i = 0; i < 2; i++) expect(await imapLogin(imap, 'carol@shared.test', 'pw', '127.0.0.90')).toMatch(/^a1 OK /);
  });
});
