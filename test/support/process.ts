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

/**
 * Ports for a server started later by a child process. They are taken below the kernel's
 * ephemeral range (32768–60999), where no outgoing connection can be given one before the
 * server binds it, and from a block of its own for each test worker process.
 */
const PORT_BLOCK = 500;
// A random start in the block: test runs of other checkouts on the same machine use the
// same blocks, and scanning them all from the first port made them collide.
let nextPort = Math.floor(Math.random() * PORT_BLOCK);

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePorts(count: number): Promise<number[]> {
  const pool = Number(process.env.VITEST_POOL_ID ?? 0) % 40;
  const base = 12000 + pool * PORT_BLOCK;
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries >= PORT_BLOCK) throw new Error(`no free port in ${base}-${base + PORT_BLOCK - 1}`);
    const port = base + (nextPort++ % PORT_BLOCK);
    if (await bindable(port)) ports.push(port);
  }
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
  // With --log-file the start line is in that file, not on standard output.
  const logFile = extraArgs.includes('--log-file') ? extraArgs[extraArgs.indexOf('--log-file') + 1] : null;
  const startLogged = () => /ternmail started/.test(logFile ? (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') : output);
  for (;;) {
    if (existsSync(adminFile) && readFileSync(adminFile, 'utf8') !== previous && startLogged()) break;
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`server did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, ports: { smtp, submission, pop3, imap, admin }, output: () => output, exited };
}

export function cli(args: string[], input?: string, env?: NodeJS.ProcessEnv) {
  return run(process.execPath, [cliPath, ...args], input, env ? { ...process.env, ...env } : undefined);
}

/**
 * Servers a test file starts, killed (SIGKILL) after each test: call once at the top
 * of the file and push every started server into the returned list.
 */
export function killAfterEach(afterEachHook: (fn: () => Promise<void>) => void): ServerProcess[] {
  const running: ServerProcess[] = [];
  afterEachHook(async () => {
    for (const server of running.splice(0)) {
      if (server.child.exitCode !== null) continue;
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });
  return running;
}
