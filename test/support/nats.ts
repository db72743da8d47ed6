// Test support: real nats-server processes with JetStream, for the multi-machine
// cluster tests. One server, or three clustered ones (a JetStream cluster that keeps
// a replicated KV bucket through the loss of one). Each listens on a loopback
// address and port of the caller's choosing, stores in a temp folder, and is killed
// by `stop`/`kill` or after each test. And ternmail nodes as real processes, each on
// its own loopback address with the standard port layout.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './server.js';
import { cli, cliPath } from './process.js';

export const NATS_SERVER = '/usr/sbin/nats-server';

export interface NatsServer {
  name: string;
  host: string;
  port: number;
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Starts it again (same name, store and ports) after a kill. */
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface ServerSpec {
  name: string;
  host: string;
  port: number;
  clusterPort?: number;
  routes?: string[];
  /** More configuration (authorization, tls blocks). */
  extra?: string;
}

function configText(spec: ServerSpec, store: string): string {
  const lines = [
    `server_name: ${spec.name}`,
    `listen: "${spec.host}:${spec.port}"`,
    // Message bodies cross nodes in one request: allow the largest payload NATS has.
    'max_payload: 67108864',
    `jetstream { store_dir: "${store}" }`,
  ];
  if (spec.clusterPort) {
    lines.push(`cluster { name: ternmail-test, listen: "${spec.host}:${spec.clusterPort}", routes: [${(spec.routes ?? []).map((r) => `"${r}"`).join(', ')}] }`);
  }
  if (spec.extra) lines.push(spec.extra);
  return lines.join('\n') + '\n';
}

async function launch(spec: ServerSpec): Promise<NatsServer> {
  const dir = tempDir('ternmail-nats-');
  const configFile = path.join(dir, 'nats.conf');
  writeFileSync(configFile, configText(spec, path.join(dir, 'js')));
  let output = '';
  const server: NatsServer = {
    name: spec.name, host: spec.host, port: spec.port, url: `nats://${spec.host}:${spec.port}`,
    child: null as unknown as ChildProcess,
    output: () => output,
    async restart() {
      const child = spawn(NATS_SERVER, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (c) => (output += c));
      child.stderr!.on('data', (c) => (output += c));
      server.child = child;
      const deadline = Date.now() + 10_000;
      while (!(await canConnect(spec.host, spec.port))) {
        if (child.exitCode !== null) throw new Error(`nats-server ${spec.name} exited: ${output.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`nats-server ${spec.name} did not start: ${output.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill(signal = 'SIGKILL') {
      const child = server.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await exited;
    },
  };
  await server.restart();
  return server;
}

/** One nats-server with JetStream on `host:port`; `extra`: more configuration (authorization, tls). */
export function startNats(host: string, port: number, extra?: string): Promise<NatsServer> {
  return launch({ name: `n-${host}-${port}`, host, port, ...(extra ? { extra } : {}) });
}

/**
 * Three clustered nats-servers with JetStream on `hosts[i]:port`, routes on
 * `hosts[i]:clusterPort`. Returns once all three run; JetStream elects its
 * meta leader shortly after (clients retry until it has).
 */
export async function startNatsCluster(hosts: string[], port: number, clusterPort: number): Promise<NatsServer[]> {
  const routes = hosts.map((h) => `nats-route://${h}:${clusterPort}`);
  return Promise.all(hosts.map((host, i) => launch({ name: `n${i + 1}`, host, port, clusterPort, routes: routes.filter((_, j) => j !== i) })));
}

export async function stopNats(servers: NatsServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.kill('SIGKILL')));
}

/** The standard port layout every node binds on its own loopback address. */
export const NODE_PORTS = { smtp: 45025, submission: 45587, pop3: 45110, imap: 45143, admin: 45080 } as const;

export interface NodeRow {
  node: number;
  host: string;
  roles: string[];
  status: 'up' | 'lapsed' | 'stopped';
  leaseAgeMs: number;
  load: { mailboxes: number; sessions: number; queued: number; delivered: number };
}

/**
 * One ternmail node of a NATS cluster as a real process (`ternmail start --cluster …
 * --node-id N --bind HOST`), its data in a temp folder kept across restarts.
 */
export class TestNode {
  child: ChildProcess | null = null;
  output = '';

  constructor(
    readonly id: number, readonly host: string, private readonly nats: string[], private readonly extra: string[] = [],
    private readonly env: NodeJS.ProcessEnv = {}, readonly data = tempDir('ternmail-node-'),
  ) {}

  async start(timeoutMs = 30_000): Promise<void> {
    rmSync(path.join(this.data, 'admin.json'), { force: true });
    const p = NODE_PORTS;
    const child = spawn(process.execPath, [cliPath, 'start', '--cluster', this.nats.join(','), '--node-id', String(this.id), '--data', this.data,
      '--bind', this.host, '--admin-bind', this.host, '--smtp-port', String(p.smtp), '--submission-port', String(p.submission),
      '--pop3-port', String(p.pop3), '--imap-port', String(p.imap), '--admin-port', String(p.admin), '--lease-interval', '500', '--lease-ttl', '3000',
      ...this.extra], {
      env: { ...process.env, TERNMAIL_PASSWORD_COST: '10', TERNMAIL_IMPORT_PASSWORD_COST: '8', TERNMAIL_RETRY_SCHEDULE: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (c) => (this.output += c));
    child.stderr!.on('data', (c) => (this.output += c));
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(path.join(this.data, 'admin.json')) && /node joined the cluster/.test(this.output))) {
      if (child.exitCode !== null) throw new Error(`node ${this.id} exited: ${this.output.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`node ${this.id} did not start: ${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  cli(args: string[]) {
    return cli([...args, '--data', this.data]);
  }

  async admin<T>(method: string, route: string): Promise<T> {
    const { url, token } = JSON.parse(readFileSync(path.join(this.data, 'admin.json'), 'utf8'));
    const res = await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as T;
  }

  async nodes(): Promise<NodeRow[]> {
    return (await this.admin<{ nodes: NodeRow[] }>('GET', '/v1/cluster')).nodes;
  }

  async waitForNodes(ok: (rows: NodeRow[]) => boolean, timeoutMs = 20_000): Promise<NodeRow[]> {
    const deadline = Date.now() + timeoutMs;
    let rows: NodeRow[] = [];
    for (;;) {
      rows = await this.nodes().catch(() => []);
      if (ok(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`nodes not as expected: ${JSON.stringify(rows)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Kills every node and NATS server a test file started, after each test. */
export function cleanUpAfterEach(hook: (fn: () => Promise<void>) => void, nodes: TestNode[], servers: NatsServer[]): void {
  hook(async () => {
    for (const node of nodes.splice(0)) {
      node.signal('SIGCONT');
      await node.kill();
    }
    await stopNats(servers.splice(0));
  });
}
