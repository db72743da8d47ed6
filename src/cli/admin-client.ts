// How the CLI finds and calls a running server's admin API: the address and token
// from --admin/--token, or from the admin file the server wrote into its data folder.
// The data folder is, in this order: --data, TERNMAIL_DATA, the config file's
// `server.data` (--config, TERNMAIL_CONFIG, or /etc/ternmail/config.json), ./data.
// "server not running" is said only when the server's process is gone.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export class CliError extends Error {}

export interface AdminTarget {
  url: string;
  token: string;
  /** The server's pid from its admin file, to tell "not running" from "not answering". */
  pid?: number;
  /** How the CLI found it, for error messages. */
  found?: string;
}

/** The config file every command reads when none is given: the one the systemd unit starts with. */
export const SYSTEM_CONFIG_FILE = '/etc/ternmail/config.json';

/** --config, then TERNMAIL_CONFIG, then the system config file if it exists. */
export function configFileOf(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (given) return given;
  if (env.TERNMAIL_CONFIG) return env.TERNMAIL_CONFIG;
  return existsSync(SYSTEM_CONFIG_FILE) ? SYSTEM_CONFIG_FILE : undefined;
}

/** The data folder a command works on, and where that choice came from. */
export function dataFolderOf(options: { data?: string; config?: string }, env: NodeJS.ProcessEnv = process.env): { data: string; from: string } {
  if (options.data) return { data: options.data, from: '--data' };
  if (env.TERNMAIL_DATA) return { data: env.TERNMAIL_DATA, from: 'TERNMAIL_DATA' };
  const file = configFileOf(options.config, env);
  if (file) {
    const fromFile = dataInConfigFile(file);
    if (fromFile) return { data: fromFile, from: file };
  }
  return { data: './data', from: 'the default' };
}

/** `server.data` (or the old flat `data`) of a config file; unreadable files are for `config check` to report. */
function dataInConfigFile(file: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read the config file ${file}: ${(err as Error).message}`);
  }
  const config = parsed as { server?: { data?: unknown }; data?: unknown } | null;
  const data = config?.server?.data ?? config?.data;
  return typeof data === 'string' && data !== '' ? data : null;
}

export function findAdmin(options: { data?: string; admin?: string; token?: string; config?: string }): AdminTarget {
  if (options.admin) {
    const token = options.token ?? process.env.TERNMAIL_ADMIN_TOKEN;
    if (!token) throw new CliError('--admin needs --token (or TERNMAIL_ADMIN_TOKEN)');
    return { url: options.admin.replace(/\/$/, ''), token };
  }
  const { data, from } = dataFolderOf(options);
  const file = path.join(data, 'admin.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new CliError(`permission denied: ${file} (run as the server's user)`);
    throw new CliError(`server not running: no ${file} (data folder from ${from}; start it with 'ternmail start --data ${data}', or pass --data DIR, or --admin URL --token TOKEN)`);
  }
  const parsed = JSON.parse(text) as AdminTarget;
  return { url: parsed.url, token: options.token ?? parsed.token, pid: parsed.pid, found: file };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unreachable(target: AdminTarget): CliError {
  if (target.pid !== undefined && processAlive(target.pid)) {
    return new CliError(`the server (pid ${target.pid}) does not answer at ${target.url}: starting, stopping or overloaded`);
  }
  const gone = target.pid !== undefined ? ` (pid ${target.pid} has exited${target.found ? `; ${target.found} is left from it` : ''})` : '';
  return new CliError(`server not running: cannot reach the admin API at ${target.url}${gone}`);
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
    throw unreachable(target);
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

/** A raw exchange (message bodies): GET answers bytes, POST sends `body` as message/rfc822. */
export async function callAdminRaw(target: AdminTarget, method: 'GET' | 'POST', route: string, body?: Buffer): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(target.url + route, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body ? { 'content-type': 'message/rfc822' } : {}) },
      body: body ? new Uint8Array(body) : undefined,
    });
  } catch {
    throw unreachable(target);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      message = (JSON.parse(bytes.toString('utf8')) as { error?: string }).error ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new CliError(message);
  }
  return bytes;
}
