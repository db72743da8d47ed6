// The plugin hooks of an SMTP session: helo (checked with the first MAIL FROM after
// each HELO/EHLO, as smtp-server has no HELO callback), mailFrom, rcptTo and data. A
// refusal becomes the SMTP reply; data may also add header fields on top of the
// message, which then is stored with them (the body is copied once, only then).
import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import type { SmtpSessionInfo } from '../plugins/contract/events.js';
import { headerBlock, type PipelineHooks, type Refusal } from '../plugins/contract/pipeline-hooks.js';
import { headerFieldsOf, HEADER_LIMIT } from '../plugins/contract/header-fields.js';

/** What the data hook needs of the session's data sink. */
export interface HookableSink {
  size: number;
  contents(): AsyncIterable<Buffer>;
  /** A new sink holding `block` and then these contents; this one is dropped. */
  withHeadersOnTop(block: Buffer): Promise<HookableSink>;
}

export interface SessionHookState {
  /** The HELO name the helo hook last accepted. */
  heloPassed: string | null;
}

export function smtpError(code: number, text: string): Error {
  const err = new Error(text) as Error & { responseCode: number };
  err.responseCode = code;
  return err;
}

const asError = (refusal: Refusal | null): Error | null => (refusal ? smtpError(refusal.code, refusal.text) : null);

export function sessionInfo(session: SMTPServerSession, listener: SmtpSessionInfo['listener']): SmtpSessionInfo {
  return {
    id: session.id, client: session.remoteAddress, listener, helo: session.hostNameAppearsAs ?? '',
    user: typeof session.user === 'string' ? session.user : null, secure: session.secure,
  };
}

export async function mailFromHooks(
  hooks: PipelineHooks, address: SMTPServerAddress, session: SMTPServerSession, listener: SmtpSessionInfo['listener'], state: SessionHookState,
): Promise<Error | null> {
  const info = sessionInfo(session, listener);
  if (hooks.on.helo && state.heloPassed !== info.helo) {
    const refusal = await hooks.gate('helo', { session: info, helo: info.helo });
    if (refusal) return asError(refusal);
    state.heloPassed = info.helo;
  }
  return hooks.on.mailFrom ? asError(await hooks.gate('mailFrom', { session: info, from: address.address })) : null;
}

export async function rcptToHook(
  hooks: PipelineHooks, address: SMTPServerAddress, session: SMTPServerSession, listener: SmtpSessionInfo['listener'],
): Promise<Error | null> {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  return asError(await hooks.gate('rcptTo', { session: sessionInfo(session, listener), from, to: address.address, unknown: false }));
}

/** A recipient ternmail does not know: the addresses a plugin redirects it to (SRS bounces), or null for 550. */
export function unknownRecipientHook(
  hooks: PipelineHooks, address: SMTPServerAddress, session: SMTPServerSession, listener: SmtpSessionInfo['listener'],
): Promise<string[] | null> {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  return hooks.unknownRecipient({ session: sessionInfo(session, listener), from, to: address.address, unknown: true });
}

/** Runs the data hooks over the received message: a refusal, or the sink to queue (with added headers, if any). */
export async function dataHooks(
  hooks: PipelineHooks, sink: HookableSink, session: SMTPServerSession, listener: SmtpSessionInfo['listener'], recipients: string[],
): Promise<{ refusal: Error } | { sink: HookableSink }> {
  const outcome = await hooks.data({
    session: sessionInfo(session, listener),
    from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    recipients, size: sink.size, headers: headerFieldsOf(await prefixOf(sink)), body: () => sink.contents(),
  });
  if (outcome.refusal) return { refusal: smtpError(outcome.refusal.code, outcome.refusal.text) };
  if (outcome.addHeaders.length === 0) return { sink };
  return { sink: await sink.withHeadersOnTop(headerBlock(outcome.addHeaders)) };
}

async function prefixOf(sink: HookableSink): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of sink.contents()) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= HEADER_LIMIT) break;
  }
  return Buffer.concat(parts);
}
