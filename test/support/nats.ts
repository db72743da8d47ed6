// Test support: real nats-server processes with JetStream, for the multi-machine
// cluster tests. One server, or three clustered ones (a JetStream cluster that keeps
// a replicated KV bucket through the loss of one). Each listens on a loopback
// address and port of the caller's choosing, stores in a temp folder, and is killed
// by `stop`/`kill` or after the test file.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './server.js';

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

/** One nats-server with JetStream on `host:port`. */
export function startNats(host: string, port: number): Promise<NatsServer> {
  return launch({ name: `n-${host}-${port}`, host, port });
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
