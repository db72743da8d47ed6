// LOGIN (RFC 3501 §6.2.3), refused without TLS unless on loopback or allowed by
// configuration; one log line per success or failure (never the password).
import type { UserRecord } from '../../directory/records.js';
import { commandOf, no, ok, type CommandSpec, type Completion, type ImapContext } from './command.js';
import { countLogin } from '../../core/metrics.js';

export const login: CommandSpec = {
  name: 'LOGIN',
  states: ['not-authenticated'],
  async handle(ctx, command) {
    const { username, password } = commandOf(command, 'LOGIN');
    if (!ctx.plaintextAuthAllowed) return no('Plaintext authentication is disallowed without TLS', { code: 'PRIVACYREQUIRED' });
    return authenticateUser(ctx, username, password, 'LOGIN');
  },
};

/** Checks the credentials through the auth guard (address and account limits) and logs in. */
export async function authenticateUser(ctx: ImapContext, username: string, password: string, method: string): Promise<Completion> {
  const { backend, log } = ctx.deps;
  const context = { user: username, client: ctx.remoteAddress, proto: 'imap', mechanism: method };
  const verdict = await backend.login(ctx.remoteAddress, username, password);
  countLogin('imap', verdict.kind);
  if (verdict.kind === 'refused' && verdict.reason === 'plugin') {
    log.warn({ ...context, event: 'imap.login-deferred' }, 'imap login refused for now by a plugin');
    return no('Login temporarily refused, try again later', { code: 'UNAVAILABLE' });
  }
  if (verdict.kind === 'refused') {
    log.info({ ...context, reason: verdict.reason, event: 'imap.login-refused' }, 'imap login refused: too many failed logins');
    return no('Too many failed logins, try again later', { code: 'UNAVAILABLE' });
  }
  if (verdict.kind === 'unavailable') {
    log.info({ ...context, event: 'imap.login-unavailable' }, 'imap login refused: the node holding the mailbox is down');
    return no('Mailbox temporarily unavailable, try again later', { code: 'UNAVAILABLE' });
  }
  if (verdict.kind === 'bad-credentials') {
    log.warn({ ...context, event: 'imap.login-failed' }, 'imap login failed');
    return no('Invalid credentials', { code: 'AUTHENTICATIONFAILED' });
  }
  const user: UserRecord = verdict.user;
  ctx.loggedIn(user);
  log.info({ ...context, user: user.address, event: 'imap.login' }, 'imap login');
  // The OK goes out from here; the session may then continue on the mailbox's worker.
  return { ...ok('Logged in', { code: 'CAPABILITY', capabilities: ctx.capabilities() }), after: () => ctx.handOffToOwner() };
}
