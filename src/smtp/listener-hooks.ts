// The plugin hooks an SMTP listener runs itself: connect (before the greeting; a
// refusal is the greeting's code and text and closes the connection) and auth (after
// a successful AUTH; a refusal fails the login: 535 when permanent, 454 when temporary).
import type { SMTPServerAuthenticationResponse, SMTPServerSession } from 'smtp-server';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { sessionInfo, smtpError } from './session-hooks.js';

export function connectHook(
  hooks: PipelineHooks, session: SMTPServerSession, listener: 'mx' | 'submission' | 'smtps', proceed: () => void, refuse: (err: Error) => void,
): void {
  hooks.gate('connect', { session: sessionInfo(session, listener) }).then((refusal) => {
    if (!refusal) return proceed();
    // smtp-server sends 554 for any refused connection unless the code is 421.
    refuse(smtpError(refusal.temporary ? 421 : refusal.code, refusal.text));
  }, (err: Error) => refuse(smtpError(421, `4.3.0 ${err.message}`)));
}

export function authHook(
  hooks: PipelineHooks, user: string, client: string, callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
): void {
  hooks.gate('auth', { protocol: 'smtp', user, client }).then((refusal) => {
    if (!refusal) return callback(null, { user });
    callback(refusal.temporary ? smtpError(454, `4.7.0 ${stripCode(refusal.text)}`) : smtpError(535, `5.7.8 ${stripCode(refusal.text)}`));
  }, () => callback(smtpError(454, '4.7.0 Temporary authentication failure')));
}

/** A plugin's text may start with its own enhanced code: the auth reply has its own. */
function stripCode(text: string): string {
  return text.replace(/^[245]\.\d{1,3}\.\d{1,3}\s+/, '');
}
