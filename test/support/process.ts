// Test support: `ternmail` as a real child process (the built CLI), with free
// loopback ports, for the CLI surface, signals and crash-durability tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './clients.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliPath = path.join(root, 'build', 'src', 'cli', 'main.js');

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface ServerProcess {
  child: ChildProcess;
  ports: { smtp: number; submission: number; pop3: number; imap: number; admin: number };
  output: () => string;
  exited: Promise<number | null>;
}

export async function startProcess(data: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const [smtp, submission, pop3, imap, admin] = await freePorts(5);
  const adminFile = path.join(data, 'admin.json');
  const previous = existsSync(adminFile) ? readFileSync(adminFile, 'utf8') : '';
  const child = spawn(process.execPath, [cliPath, 'start', '--data', data, '--smtp-port', String(smtp), '--submission-port', String(submission),
    '--pop3-port', String(pop3), '--imap-port', String(imap), '--admin-port', String(admin), ...extraArgs], {
    env: { ...process.env, TERNMAIL_PASSWORD_COST: '10', TERNMAIL_IMPORT_PASSWORD_COST: '10', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (existsSync(adminFile) && readFileSync(adminFile, 'utf8') !== previous && /ternmail started/.test(output)) break;
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, ports: { smtp, submission, pop3, imap, admin }, output: () => output, exited };
}

export function cli(args: string[], input?: string, env?: NodeJS.ProcessEnv) {
  return run(process.execPath, [cliPath, ...args], input, env ? { ...process.env, ...env } : undefined);
}
