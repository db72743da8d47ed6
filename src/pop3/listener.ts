// The POP3 listener: the protocol layer (src/protocols/pop3) over the mailbox actors.
// Each connection's session runs inside its own actor; a crash there closes that
// connection with -ERR and leaves the rest of the process alone.
import { randomUUID } from 'node:crypto';
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { NetSettings } from '../net/settings.js';
import type { Pop3Settings } from './settings.js';
import type { BlobStore } from '../store/blob-store.js';
import { createPop3Server, type Pop3ServerOptions } from '../protocols/pop3/server.js';
import type { TlsSource } from '../net/tls-material.js';
import type { Maildrop, MaildropMessage, Pop3Backend } from '../protocols/pop3/backend.js';
import type { Directory } from '../directory/directory.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { DoneReply, PopMessage, PopOpenReply } from '../mailbox/messages.js';
import type { ConnectionLimiter } from '../net/connection-limiter.js';
import type { AuthGate } from '../net/auth-guard.js';
import { checkLogin } from '../directory/guarded-login.js';
import { afterLogin } from '../directory/login-hook.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import type { ConnectionHandoff } from '../transport/handoff.js';
import { dispatch, stop } from '../core/supervision.js';
import { defineActor, spawnActor } from '../core/actor.js';
import type { RunningListener } from '../smtp/listener.js';
import { countLogin } from '../core/metrics.js';

export interface Pop3Deps {
  directory: Directory;
  mailboxes: MailboxRegistry;
  blobs: BlobStore;
  limiter: ConnectionLimiter;
  /** Failed-login limits per address and per account. */
  auth: AuthGate;
  log: Logger;
  /** In a cluster: moves the connection after login to the worker holding the mailbox. */
  handoff?: ConnectionHandoff;
  /** Plugin hooks (auth, after a successful login). */
  hooks?: PipelineHooks;
}

function mailboxBackend(deps: Pop3Deps): Pop3Backend {
  return {
    async authenticate(user, password, remoteAddress) {
      const checked = checkLogin(deps.auth, deps.directory, remoteAddress, user, password);
      const verdict = await (deps.hooks?.on.auth ? afterLogin(deps.hooks, 'pop3', remoteAddress, checked) : checked);
      countLogin('pop3', verdict.kind);
      if (verdict.kind === 'refused') return { ok: false, reason: verdict.reason === 'plugin' ? 'temporary' : 'locked' };
      if (verdict.kind === 'bad-credentials') return { ok: false, reason: 'bad-credentials' };
      return { ok: true, userId: verdict.user.address };
    },
    async openMaildrop(userId) {
      const user = deps.directory.cache.user(userId);
      if (!user) throw new Error(`user ${userId} disappeared`);
      return openMaildrop(user.mailboxId, deps);
    },
    async handOff(userId, connection) {
      const user = deps.directory.cache.user(userId);
      if (!deps.handoff || !user) return false;
      return deps.handoff.offer({ protocol: 'pop3', user: user.address, mailboxId: user.mailboxId, ...connection });
    },
  };
}

async function openMaildrop(mailboxId: string, deps: Pop3Deps): Promise<Maildrop | 'in-use'> {
  const session = randomUUID();
  deps.mailboxes.pin(mailboxId);
  let reply: PopOpenReply;
  try {
    reply = await deps.mailboxes.ask<PopOpenReply>(mailboxId, (replyTo) => ({ type: 'pop-open', session, replyTo }));
  } catch (err) {
    deps.mailboxes.unpin(mailboxId);
    throw err;
  }
  if (!reply.ok) {
    deps.mailboxes.unpin(mailboxId);
    if (reply.error === 'in-use') return 'in-use';
    throw new Error(reply.error);
  }
  const { messages, uidValidity } = reply;
  let open = true;
  const finish = async (type: 'pop-commit' | 'pop-release', uids: number[]) => {
    if (!open) return;
    const answer = await deps.mailboxes.ask<DoneReply>(mailboxId, (replyTo) =>
      type === 'pop-commit' ? { type, session, uids, replyTo } : { type, session, replyTo });
    if (!answer.ok) throw new Error(answer.error);
    open = false;
    deps.mailboxes.unpin(mailboxId);
  };
  return {
    messages: maildropMessages(messages, uidValidity),
    read: (index) => deps.mailboxes.read(mailboxId, messages[index].blob),
    readNow: (index) => deps.mailboxes.cachedBody(mailboxId, messages[index].blob),
    // A QUIT without deletions changes nothing: it only gives the lock back.
    commit: (deleted) => deleted.length === 0
      ? finish('pop-release', [])
      : finish('pop-commit', deleted.map((i) => messages[i].uid)),
    release: () => finish('pop-release', []),
  };
}

/**
 * The listing as the protocol layer sees it. The mailbox actor hands every session of an
 * unchanged maildrop the same listing, so the rendered form is made once per listing.
 */
const renderedListings = new WeakMap<readonly PopMessage[], MaildropMessage[]>();

function maildropMessages(messages: readonly PopMessage[], uidValidity: number): MaildropMessage[] {
  const kept = renderedListings.get(messages);
  if (kept !== undefined) return kept;
  const rendered = messages.map((m) => ({ uid: `${uidValidity}.${m.uid}`, size: m.size }));
  renderedListings.set(messages, rendered);
  return rendered;
}

/** Runs one connection's session inside its own actor; resolves or rejects with it. */
function runInSessionActor(parent: Ref<unknown>, name: string, run: () => Promise<void>, log: Logger): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const sessionActor = defineActor({
      what: 'pop3 session',
      handle: async (state: undefined, _msg: { type: 'run' }) => {
        await run();
        resolve();
        stop(ref);
        return state;
      },
      restart: { strategy: 'stop' },
      reportCrash: (_msg, _self, err) => reject(err ?? new Error(`${name} crashed`)),
    });
    const ref = spawnActor(parent, sessionActor, name, log);
    dispatch(ref, { type: 'run' });
  });
}

/** POP3 counts its connections with SMTP's and IMAP's: one per-address limit for all. */
function sharedConnectionSlots(limiter: ConnectionLimiter): NonNullable<Pop3ServerOptions['connections']> {
  return {
    acquire(address) {
      const refusal = limiter.acquire(address, 'pop3');
      if (refusal === null) return undefined;
      return refusal === 'total' ? 'Too many connections' : 'too many connections from your address';
    },
    release: (address) => limiter.release(address, 'pop3'),
  };
}

/** The sections a POP3 listener reads. */
export interface Pop3ListenerConfig { pop3: Pop3Settings; net: NetSettings }

export async function startPop3Listener(
  options: { port: number; implicitTls: boolean }, config: Pop3ListenerConfig, parent: Ref<unknown>, deps: Pop3Deps,
  tlsSource: TlsSource | null = null,
): Promise<RunningListener> {
  let sessionCount = 0;
  const server = createPop3Server({
    tlsSource: tlsSource ?? undefined, implicitTls: options.implicitTls, allowPlaintextAuth: config.net.allowPlaintextAuth,
    shutdownGraceMs: 2000, connections: sharedConnectionSlots(deps.limiter),
    loginTimeoutMs: config.pop3.loginTimeout * 1000,
    runSession: (session) => runInSessionActor(parent, `pop3-${options.implicitTls ? 's' : ''}${++sessionCount}`, () => session.run(), deps.log),
  }, mailboxBackend(deps), deps.log);
  const { port } = await server.listen(options.port, config.net.bind);
  return {
    port, close: () => server.close(), sessions: () => server.sessionCount, accept: (socket) => server.accept(socket),
    adopt: (socket, state) => {
      if (!deps.directory.cache.user(state.user)) return `unknown user ${state.user}`;
      return server.adopt(socket, state.user, state.remoteAddress, Buffer.from(state.pending, 'base64'));
    },
  };
}
