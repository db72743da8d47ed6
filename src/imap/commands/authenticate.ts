// AUTHENTICATE PLAIN (RFC 3501 §6.2.2, RFC 4616), with the SASL-IR initial response
// (RFC 4959) or one `+ ` challenge; `*` cancels.
import { authenticateUser } from './login.js';
import { bad, commandOf, no, type CommandSpec, type CommandResult, type ImapContext } from './command.js';

export const authenticate: CommandSpec = {
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  async handle(ctx, command) {
    const { mechanism, initialResponse } = commandOf(command, 'AUTHENTICATE');
    if (mechanism !== 'PLAIN') return no(`Unsupported authentication mechanism ${mechanism}`);
    if (!ctx.plaintextAuthAllowed) return no('Plaintext authentication is disallowed without TLS', { code: 'PRIVACYREQUIRED' });
    if (initialResponse !== undefined) return finishPlain(ctx, initialResponse);
    await ctx.send({ type: 'continuation', text: '' });
    return { awaitLine: (line) => (line === '*' ? Promise.resolve(bad('Authentication cancelled')) : finishPlain(ctx, line)) };
  },
};

async function finishPlain(ctx: ImapContext, base64: string): Promise<CommandResult> {
  const credentials = decodePlain(base64.trim());
  if (credentials === null) return bad('Invalid SASL PLAIN response');
  const { authzid, authcid, password } = credentials;
  if (authzid !== '' && authzid.toLowerCase() !== authcid.toLowerCase()) {
    return no('Proxy authorization is not supported', { code: 'AUTHORIZATIONFAILED' });
  }
  return authenticateUser(ctx, authcid, password, 'AUTHENTICATE PLAIN');
}

function decodePlain(base64: string): { authzid: string; authcid: string; password: string } | null {
  // RFC 9051 §9 `base64`: whole groups of four, padding only at the end.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return null;
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '') return null;
  return { authzid: parts[0]!, authcid: parts[1]!, password: parts[2]! };
}
