// Test support: a real ternmail server in this process, on loopback ports picked by
// the OS, with its LevelDB in a fresh temp folder, and a small admin API client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type FlatSettings } from '../../src/settings.js';
import { silentLogger, createLogger, type Logger } from '../../src/core/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface TestServer extends RunningServer {
  dataDir: string;
  admin<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

const created: string[] = [];

/** Removes every temp folder made so far (test/support/setup.ts calls it after each test file). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tempDir(prefix = 'ternmail-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export async function startTestServer(overrides: Partial<FlatSettings> = {}, options: { testFaults?: boolean; keepData?: boolean; log?: Logger } = {}): Promise<TestServer> {
  const dataDir = overrides.data ?? tempDir();
  const config = loadConfig({
    flags: {
      data: dataDir, smtpPort: 0, submissionPort: 0, pop3Port: 0, imapPort: 0, adminPort: 0,
      passwordCost: 10, importPasswordCost: 10, retrySchedule: [1], ...overrides,
    },
  });
  const log = options.log ?? (process.env.TERNMAIL_TEST_LOG ? createLogger(process.env.TERNMAIL_TEST_LOG) : silentLogger());
  const server = await startServer(config, log, { testFaults: options.testFaults });
  return {
    ...server, dataDir, admin: adminClient(server),
    async destroy() {
      await server.stop();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A JSON client of a running server's admin API (bearer token); a non-2xx answer throws with its error. */
export function adminClient(server: { adminUrl: string; token: string }): TestServer['admin'] {
  return async <T,>(method: string, route: string, body?: unknown): Promise<T> => {
    const res = await fetch(server.adminUrl + route, {
      method, headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const value = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`${res.status} ${value.error}`);
    return value;
  };
}

/** Adds a domain and users (password = "pw" unless given). */
export async function provision(server: TestServer, domain: string, users: string[], password = 'pw'): Promise<void> {
  await server.admin('POST', '/v1/domains', { name: domain });
  await server.admin('POST', '/v1/users/import', { users: users.map((u) => ({ address: u.includes('@') ? u : `${u}@${domain}`, password })) });
}

export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function stats(server: TestServer): Promise<{ messages: number; queued: number; blobs: number; blobBytes: number }> {
  return server.admin('GET', '/v1/stats');
}

export async function waitForMessages(server: TestServer, count: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await stats(server)).messages >= count, timeoutMs, `${count} stored messages`);
}
