// The auth plugin hook for IMAP and POP3: after the password is verified, the plugins
// may still refuse the login. A permanent refusal reads as bad credentials (NO /
// -ERR, nothing about why), a temporary one as a refusal for now (IMAP NO [UNAVAILABLE],
// POP3 -ERR [SYS/TEMP]), not as a locked account.
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import type { LoginVerdict } from './guarded-login.js';

export async function afterLogin(hooks: PipelineHooks, protocol: 'imap' | 'pop3', client: string, checked: Promise<LoginVerdict>): Promise<LoginVerdict> {
  const verdict = await checked;
  if (verdict.kind !== 'ok') return verdict;
  const refusal = await hooks.gate('auth', { protocol, user: verdict.user.address, client });
  if (!refusal) return verdict;
  return refusal.temporary ? { kind: 'refused', reason: 'plugin' } : { kind: 'bad-credentials' };
}
