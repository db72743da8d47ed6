// How the CLI finds and calls a running server's admin API: the address and token
// from --admin/--token, or from the admin file the server wrote into its data folder.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export class CliError extends Error {}

export interface AdminTarget {
  url: string;
  token: string;
}

export function findAdmin(options: { data?: string; admin?: string; token?: string }): AdminTarget {
  if (options.admin) {
    const token = options.token ?? process.env.TERNMAIL_ADMIN_TOKEN;
    if (!token) throw new CliError('--admin needs --token (or TERNMAIL_ADMIN_TOKEN)');
    return { url: options.admin.replace(/\/$/, ''), token };
  }
  const data = options.data ?? process.env.TERNMAIL_DATA ?? './data';
  const file = path.join(data, 'admin.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`server not running: no ${file} (start it with 'ternmail start --data ${data}', or pass --admin URL --token TOKEN)`);
  }
  const parsed = JSON.parse(text) as AdminTarget;
  return { url: parsed.url, token: options.token ?? parsed.token };
}

export async function callAdmin<T>(target: AdminTarget, method: string, route: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(target.url + route, {
      method,
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CliError(`server not running: cannot reach the admin API at ${target.url}`);
  }
  const text = await response.text();
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : null;
  } catch {
    throw new CliError(`unexpected answer from the admin API (${response.status})`);
  }
  if (!response.ok) {
    const message = (value as { error?: string } | null)?.error ?? `HTTP ${response.status}`;
    throw new CliError(response.status === 401 ? `bad admin token: ${message}` : message);
  }
  return value as T;
}
