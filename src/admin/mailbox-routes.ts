// The admin API's routes for users' mail (doveadm's ground): `user show`, a folder's
// messages, a message's raw bytes, appending raw messages (import), search and
// expunge across users, and backups. JSON everywhere except message bodies, which
// travel raw (message/rfc822) both ways.
import type http from 'node:http';
import type { Directory } from '../directory/directory.js';
import { AdminError, type MailboxAdminPort, type MessageQuery } from './mailbox-admin.js';
import type { BackupProgress } from './backup.js';

export interface MailboxRoutesBackend {
  directory: Directory;
  /** In a cluster's primary, a worker's, reached over the node transport. */
  mailboxAdmin: MailboxAdminPort;
  backup: { start(dir: string): Promise<BackupProgress>; status(): BackupProgress };
  maxMessageSize: number;
}

type Json = [number, unknown];

function dateOf(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const time = Date.parse(String(value));
  if (Number.isNaN(time)) throw new AdminError(400, `${name}: not a date: ${String(value)}`);
  return time;
}

export function queryOf(body: unknown): MessageQuery {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const query: MessageQuery = {
    from: typeof fields.from === 'string' && fields.from ? fields.from : undefined,
    subject: typeof fields.subject === 'string' && fields.subject ? fields.subject : undefined,
    since: dateOf(fields.since, 'since'),
    before: dateOf(fields.before, 'before'),
  };
  if (Object.values(query).every((v) => v === undefined)) throw new AdminError(400, 'give at least one of from, subject, since, before');
  return query;
}

/** `ternmail user show`: the record, usage and folders. */
export async function userShow(backend: MailboxRoutesBackend, address: string): Promise<Json> {
  const user = backend.directory.cache.user(address);
  if (!user) throw new AdminError(404, `unknown user: ${address}`);
  const lastLogin = Math.max(backend.directory.lastLogins.get(user.address) ?? 0, user.lastLogin ?? 0) || null;
  const base = { address: user.address, quota: user.quota, created: user.created, disabled: user.disabled === true, lastLogin };
  const admin = backend.mailboxAdmin;
  const folders = (await admin.folders(user.address)).map(({ name, messages, unseen, bytes }) => ({ name, messages, unseen, bytes }));
  return [200, { ...base, usage: await admin.usage(user.address), folders }];
}

/** JSON routes: [method, pattern, handler(params, body)]. */
export function mailboxJsonRoutes(backend: MailboxRoutesBackend): Array<[string, RegExp, (params: string[], body: unknown) => Promise<Json>]> {
  return [
    ['GET', /^\/v1\/users\/([^/]+)$/, async ([address]) => userShow(backend, address)],
    ['GET', /^\/v1\/mailboxes\/([^/]+)\/folders$/, async ([address]) => [200, await backend.mailboxAdmin.folders(address)]],
    ['GET', /^\/v1\/mailboxes\/([^/]+)\/folders\/([^/]+)$/, async ([address, folder]) => [200, await backend.mailboxAdmin.messages(address, folder)]],
    ['POST', /^\/v1\/search$/, async (_, body) => [200, await backend.mailboxAdmin.search(queryOf(body))]],
    ['POST', /^\/v1\/expunge$/, async (_, body) => [200, await backend.mailboxAdmin.expunge(queryOf(body))]],
    ['POST', /^\/v1\/backup$/, async (_, body) => {
      const dir = (body as { dir?: unknown } | undefined)?.dir;
      if (typeof dir !== 'string' || dir === '') throw new AdminError(400, 'missing field: dir');
      try {
        return [202, await backend.backup.start(dir)];
      } catch (err) {
        if (err instanceof AdminError) throw err;
        throw new AdminError(400, (err as Error).message);
      }
    }],
    ['GET', /^\/v1\/backup$/, async () => [200, backend.backup.status()]],
  ];
}

async function readRaw(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw new AdminError(413, `message larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AdminError(413, `message larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Raw message bytes: GET one body, POST one message into a folder. Answers true when the route was one of these. */
export async function mailboxRawRoute(backend: MailboxRoutesBackend, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
  const body = /^\/v1\/mailboxes\/([^/]+)\/blobs\/([0-9a-f]{64})$/.exec(url.pathname);
  if (body && req.method === 'GET') {
    const bytes = await backend.mailboxAdmin.body(decodeURIComponent(body[1]), body[2]);
    res.writeHead(200, { 'content-type': 'message/rfc822', 'content-length': bytes.length });
    res.end(bytes);
    return true;
  }
  const append = /^\/v1\/mailboxes\/([^/]+)\/folders\/([^/]+)\/messages$/.exec(url.pathname);
  if (append && req.method === 'POST') {
    const admin = backend.mailboxAdmin;
    const message = await readRaw(req, backend.maxMessageSize);
    if (message.length === 0) throw new AdminError(400, 'empty message');
    const flags = (url.searchParams.get('flags') ?? '').split(' ').filter(Boolean);
    const date = dateOf(url.searchParams.get('date'), 'date') ?? Date.now();
    const uid = await admin.append(decodeURIComponent(append[1]), decodeURIComponent(append[2]), message, flags, date);
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ uid }));
    return true;
  }
  return false;
}
