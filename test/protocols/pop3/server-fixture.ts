// Starts a POP3 server on 127.0.0.1 with a memory backend for one test and
// stops it afterwards; also makes a throwaway self-signed certificate.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tempDir } from '../../support/server.js';
import { join } from 'node:path';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../../src/core/logger.js';
import { createPop3Server, type Pop3Server, type Pop3ServerOptions } from '../../../src/protocols/pop3/server.js';
import { MemoryBackend } from './memory-backend.js';

export interface RunningServer {
  server: Pop3Server;
  port: number;
  backend: MemoryBackend;
}

const running: Pop3Server[] = [];

export async function startServer(
  options: Pop3ServerOptions = {},
  backend = new MemoryBackend(),
  logger: Logger = silentLogger(),
): Promise<RunningServer> {
  const server = createPop3Server({ authFailureDelayMs: 0, ...options }, backend, logger);
  const { port } = await server.listen(0, '127.0.0.1');
  running.push(server);
  return { server, port, backend };
}

/** For afterEach: closes every server started by the test. */
export async function stopServers(): Promise<void> {
  const servers = running.splice(0);
  await Promise.all(servers.map((server) => server.close()));
}

export interface SelfSignedCertificate {
  key: Buffer;
  cert: Buffer;
  certPath: string;
}

/** A self-signed certificate for CN=localhost, made with openssl in a temp folder. */
export function makeSelfSignedCertificate(): SelfSignedCertificate {
  const folder = tempDir('ternmail-pop3-tls-');
  const keyPath = join(folder, 'key.pem');
  const certPath = join(folder, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore' });
  const certificate = { key: readFileSync(keyPath), cert: readFileSync(certPath), certPath };
  return certificate;
}

/** A pino logger that collects its JSON lines, to check what gets logged. */
export function collectingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => chunks.push(line) });
  return { logger, lines: () => chunks.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
