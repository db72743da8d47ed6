// The admin HTTP API: the CLI's way into a running server. JSON over HTTP on the
// admin port, every request carrying the bearer token written to the data folder.
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { AdminReply, Directory, NewUser } from '../directory/directory.js';
import type { QueueListing } from '../queue/queue.js';
import type { BlockedEntry } from '../net/auth-guard.js';
import { mailboxJsonRoutes, mailboxRawRoute, type MailboxRoutesBackend } from './mailbox-routes.js';
import { AdminError } from './mailbox-admin.js';
import { dashboardRoute, cookieAuthorized } from './dashboard-auth.js';
import { dashboardAnswer, type DashboardSource } from './dashboard-data.js';

export interface AdminBackend extends MailboxRoutesBackend, DashboardSource {
  directory: Directory;
  stats(): Promise<Record<string, number>>;
  queueList(): Promise<QueueListing[]>;
  queueFlush(domain?: string): void;
  queueControl(action: 'hold' | 'release' | 'delete' | 'retry', queueId: string): Promise<{ ok: true } | { ok: false; error: string }>;
  injectFault(address: string): Promise<{ ok: boolean; error?: string }>;
  importPasswordCost: number;
  passwordCost: number;
  /** Only in a cluster: one row per worker and the totals. */
  clusterStatus?: () => unknown;
  /** Only in a cluster: start, watch and stop a rebalance. */
  rebalance?: { start(): unknown; status(): unknown; stop(): unknown };
  /** The auth guard deciding for this server (the primary's in a cluster). */
  auth: { blocked(): BlockedEntry[]; unblock(target: string): boolean };
  /** The plugins of this node with their counters (src/plugins); absent: none. */
  plugins?: () => unknown[] | Promise<unknown[]>;
  /** GET /metrics: the Prometheus text of this node (every process of a cluster, summed). */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** GET /metrics without the admin token (for a scraper on a trusted network). */
  metricsOpen: boolean;
}

type Handler = (params: string[], body: unknown) => Promise<[number, unknown]>;

/** Imports go in batches of 1000 users, far below this; anything larger is refused before it is buffered. */
export const MAX_ADMIN_BODY = 1024 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function fromReply<T>(reply: AdminReply<T>, status = 200): [number, unknown] {
  if (reply.ok) return [status, reply.value ?? { ok: true }];
  const notFound = /^unknown (user|domain|alias|route|queue id)/.test(reply.error);
  const conflict = / exists: |changed meanwhile/.test(reply.error);
  throw new HttpError(notFound ? 404 : conflict ? 409 : 400, reply.error);
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function stringField(body: unknown, name: string): string {
  const value = field(body, name);
  if (typeof value !== 'string' || value === '') throw new HttpError(400, `missing field: ${name}`);
  return value;
}

function clusterOnly<T>(value: T | undefined): T {
  if (value === undefined) throw new HttpError(400, 'not a cluster: this server runs as one process (start it with --workers N)');
  return value;
}

function routes(backend: AdminBackend): Array<[string, RegExp, Handler]> {
  const dir = backend.directory;
  const dashboard = dashboardAnswer(backend);
  return [
    ['GET', /^\/v1\/plugins$/, async () => [200, (await backend.plugins?.()) ?? []]],
    ['GET', /^\/v1\/domains$/, async () => [200, [...dir.cache.domains.values()].sort((a, b) => a.name.localeCompare(b.name))]],
    ['POST', /^\/v1\/domains$/, async (_, body) => fromReply(await dir.request((replyTo) => ({ type: 'add-domain', name: stringField(body, 'name'), replyTo })), 201)],
    ['DELETE', /^\/v1\/domains\/([^/]+)$/, async ([name]) => fromReply(await dir.request((replyTo) => ({ type: 'remove-domain', name, replyTo })))],
    ['GET', /^\/v1\/users$/, async () => [200, [...dir.cache.users.values()].map(({ address, quota, created }) => ({ address, quota, created })).sort((a, b) => a.address.localeCompare(b.address))]],
    ['POST', /^\/v1\/users$/, async (_, body) => {
      const user: NewUser = { address: stringField(body, 'address'), password: field(body, 'password') as string | undefined, quota: field(body, 'quota') as number | undefined };
      const reply = await dir.request<Array<{ status: string; reason?: string }>>((replyTo) => ({ type: 'add-users', users: [user], hashCost: backend.passwordCost, replyTo }));
      if (reply.ok && reply.value[0]?.status === 'skipped') return fromReply({ ok: false, error: reply.value[0].reason ?? 'skipped', temporary: false });
      return fromReply(reply, 201);
    }],
    ['POST', /^\/v1\/users\/import$/, async (_, body) => {
      const users = field(body, 'users');
      if (!Array.isArray(users)) throw new HttpError(400, 'missing field: users');
      return fromReply(await dir.request((replyTo) => ({ type: 'add-users', users: users as NewUser[], hashCost: backend.importPasswordCost, replyTo })));
    }],
    ['DELETE', /^\/v1\/users\/([^/]+)$/, async ([address]) => fromReply(await dir.request((replyTo) => ({ type: 'remove-user', address, replyTo })))],
    ['POST', /^\/v1\/users\/([^/]+)\/(disable|enable)$/, async ([address, action]) => fromReply(await dir.request((replyTo) => ({ type: 'set-disabled', address, disabled: action === 'disable', replyTo })))],
    ['POST', /^\/v1\/users\/([^/]+)\/rename$/, async ([address], body) => fromReply(await dir.request((replyTo) => ({ type: 'rename-user', address, to: stringField(body, 'to'), keepAlias: field(body, 'keepAlias') === true, replyTo })))],
    ...mailboxJsonRoutes(backend),
    ['PUT', /^\/v1\/users\/([^/]+)\/password$/, async ([address], body) => fromReply(await dir.request((replyTo) => ({ type: 'set-password', address, password: stringField(body, 'password'), replyTo })))],
    ['PUT', /^\/v1\/users\/([^/]+)\/quota$/, async ([address], body) => fromReply(await dir.request((replyTo) => ({ type: 'set-quota', address, quota: Number(field(body, 'quota')), replyTo })))],
    ['GET', /^\/v1\/aliases$/, async () => [200, [...dir.cache.aliases.values()].sort((a, b) => a.address.localeCompare(b.address))]],
    ['POST', /^\/v1\/aliases$/, async (_, body) => {
      const targets = field(body, 'targets');
      if (!Array.isArray(targets)) throw new HttpError(400, 'missing field: targets');
      return fromReply(await dir.request((replyTo) => ({ type: 'add-alias', address: stringField(body, 'address'), targets: targets.map(String), replyTo })), 201);
    }],
    ['DELETE', /^\/v1\/aliases\/([^/]+)$/, async ([address]) => fromReply(await dir.request((replyTo) => ({ type: 'remove-alias', address, replyTo })))],
    ['GET', /^\/v1\/routes$/, async () => [200, [...dir.cache.routes.values()].sort((a, b) => a.domain.localeCompare(b.domain))]],
    ['POST', /^\/v1\/routes$/, async (_, body) => fromReply(await dir.request((replyTo) => ({
      type: 'add-route', domain: stringField(body, 'domain'), host: stringField(body, 'host'), port: Number(field(body, 'port') ?? 25), replyTo,
    })), 201)],
    ['DELETE', /^\/v1\/routes\/([^/]+)$/, async ([domain]) => fromReply(await dir.request((replyTo) => ({ type: 'remove-route', domain, replyTo })))],
    ['GET', /^\/v1\/queue$/, async () => [200, await backend.queueList()]],
    ['POST', /^\/v1\/queue\/flush$/, async (_, body) => {
      const domain = field(body, 'domain');
      backend.queueFlush(typeof domain === 'string' && domain !== '' ? domain.toLowerCase() : undefined);
      return [200, { ok: true }];
    }],
    ['POST', /^\/v1\/queue\/([^/]+)\/(hold|release|delete|retry)$/, async ([id, action]) => {
      const reply = await backend.queueControl(action as 'hold' | 'release' | 'delete' | 'retry', id);
      return fromReply(reply.ok ? { ok: true, value: { ok: true } } : { ok: false, error: reply.error, temporary: false });
    }],
    ['GET', /^\/v1\/stats$/, async () => [200, await backend.stats()]],
    ['GET', /^\/v1\/dashboard$/, async () => [200, await dashboard()]],
    ['POST', /^\/v1\/cluster\/rebalance$/, async () => [202, clusterOnly(backend.rebalance).start()]],
    ['GET', /^\/v1\/cluster\/rebalance$/, async () => [200, clusterOnly(backend.rebalance).status()]],
    ['DELETE', /^\/v1\/cluster\/rebalance$/, async () => [200, clusterOnly(backend.rebalance).stop()]],
    ['GET', /^\/v1\/cluster$/, async () => {
      if (!backend.clusterStatus) throw new HttpError(400, 'not a cluster: this server runs as one process (start it with --workers N)');
      return [200, backend.clusterStatus()];
    }],
    ['GET', /^\/v1\/auth\/blocked$/, async () => [200, backend.auth.blocked()]],
    ['DELETE', /^\/v1\/auth\/blocked\/([^/]+)$/, async ([target]) => {
      if (!backend.auth.unblock(target)) throw new HttpError(404, `not blocked: ${target}`);
      return [200, { ok: true }];
    }],
    ['POST', /^\/v1\/test\/fault$/, async (_, body) => {
      const result = await backend.injectFault(stringField(body, 'address'));
      if (!result.ok) throw new HttpError(400, result.error ?? 'fault injection failed');
      return [200, { ok: true }];
    }],
  ];
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_ADMIN_BODY) throw new HttpError(413, 'request body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function authorized(req: http.IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function startAdminApi(
  backend: AdminBackend, token: string, bind: string, port: number, log: Logger,
): Promise<{ port: number; close(): Promise<void> }> {
  const table = routes(backend);
  const server = http.createServer(async (req, res) => {
    const send = (status: number, value: unknown) => {
      // The rest of a refused body is not read: the connection ends with the answer.
      const close = status === 413 ? { connection: 'close' } : {};
      res.writeHead(status, { 'content-type': 'application/json', ...close });
      res.end(JSON.stringify(value));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://admin');
      if (req.method === 'GET' && url.pathname === '/metrics' && (backend.metricsOpen || authorized(req, token))) {
        const { contentType, text } = await backend.metrics();
        res.writeHead(200, { 'content-type': contentType });
        return res.end(text);
      }
      if (await dashboardRoute(req, res, url, token)) return;
      if (!authorized(req, token) && !cookieAuthorized(req, token)) throw new HttpError(401, 'bad or missing admin token');
      if (await mailboxRawRoute(backend, req, res, url)) return;
      for (const [method, pattern, handler] of table) {
        const match = pattern.exec(url.pathname);
        if (!match || req.method !== method) continue;
        const [status, value] = await handler(match.slice(1).map(decodeURIComponent), await readBody(req));
        return send(status, value);
      }
      throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
    } catch (err) {
      if (err instanceof HttpError || err instanceof AdminError) return send(err.status, { error: err.message });
      log.error({ err }, 'admin request failed');
      send(500, { error: `internal error: ${(err as Error).message}` });
    }
  });
  const actual = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
  return {
    port: actual,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
