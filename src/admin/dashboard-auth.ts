// How a browser gets into the dashboard: the login form (POST /login with the admin
// token) or `/?token=TOKEN` once, then a cookie holding the token (HttpOnly,
// SameSite=Strict). Requests authenticated by the cookie that change anything must
// carry `x-ternmail-dashboard: 1`, which no cross-site form or image can send.
import http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { dashboardPage, loginPage } from './dashboard-page.js';

const COOKIE = 'ternmail_admin';
const MAX_LOGIN_BODY = 4096;

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: http.IncomingMessage): string {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return '';
}

/** A request from the dashboard's own page: its cookie, and the marker header unless it only reads. */
export function cookieAuthorized(req: http.IncomingMessage, token: string): boolean {
  if (!sameToken(cookieToken(req), token)) return false;
  return req.method === 'GET' || req.headers['x-ternmail-dashboard'] === '1';
}

function sendPage(res: http.ServerResponse, status: number, page: (nonce: string) => string, extra: Record<string, string> = {}): void {
  const nonce = randomBytes(16).toString('base64');
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(page(nonce));
}

function redirectHome(res: http.ServerResponse, cookie: string): void {
  res.writeHead(303, { location: '/', 'set-cookie': cookie, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end();
}

const loginCookie = (token: string) => `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;

async function formToken(req: http.IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > MAX_LOGIN_BODY) return '';
  }
  return new URLSearchParams(body).get('token') ?? '';
}

/** Serves `/`, `/login` and `/logout`; answers true when the request was one of these. */
export async function dashboardRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL, token: string): Promise<boolean> {
  if (url.pathname === '/' && req.method === 'GET') {
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (sameToken(given, token)) redirectHome(res, loginCookie(token));
      else sendPage(res, 401, (nonce) => loginPage(nonce, 'wrong token'));
      return true;
    }
    if (sameToken(cookieToken(req), token)) sendPage(res, 200, dashboardPage);
    else sendPage(res, 200, (nonce) => loginPage(nonce, null));
    return true;
  }
  if (url.pathname === '/login' && req.method === 'POST') {
    if (sameToken(await formToken(req), token)) redirectHome(res, loginCookie(token));
    else sendPage(res, 401, (nonce) => loginPage(nonce, 'wrong token'));
    return true;
  }
  if (url.pathname === '/logout' && req.method === 'GET') {
    redirectHome(res, `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return true;
  }
  return false;
}
