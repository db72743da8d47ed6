// SIGHUP re-reads the TLS key and certificate of a running server: new connections on
// every TLS entry see the new certificate, sessions already open go on, unusable new
// files are refused with an error while the old material stays, and nothing exits.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import tls from 'node:tls';
import { selfSignedCertificate } from '../support/certificates.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, killAfterEach, freePorts, startProcess, type ServerProcess } from '../support/process.js';
import { probeTls, TLS12 } from '../support/tls-probe.js';

const running = killAfterEach(afterEach);

function fingerprint(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** An IMAPS session driven line by line, to show it survives a reload. */
class ImapsSession {
  private received = '';
  private constructor(private readonly socket: tls.TLSSocket) {
    socket.on('data', (c: Buffer) => (this.received += c.toString('latin1')));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<ImapsSession> {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    const session = new ImapsSession(socket);
    await session.until(/^\* OK.*\r\n/m);
    return session;
  }

  async command(tag: string, text: string): Promise<string> {
    this.socket.write(`${tag} ${text}\r\n`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD).*\\r\\n`, 'm'));
  }

  private async until(pattern: RegExp): Promise<string> {
    await waitFor(async () => pattern.test(this.received) || this.socket.destroyed, 5000, `${pattern}: ${this.received}`);
    const text = this.received;
    this.received = '';
    return text;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function sighupAndWait(server: ServerProcess, line: RegExp): Promise<void> {
  const seen = (server.output().match(new RegExp(line, 'g')) ?? []).length;
  server.child.kill('SIGHUP');
  await waitFor(async () => (server.output().match(new RegExp(line, 'g')) ?? []).length > seen, 5000, `${line} in ${server.output()}`);
}

/** Two certificates, A and B, and the paths the server reads, holding A for now. */
function liveCertificates() {
  const [a, b] = [selfSignedCertificate(), selfSignedCertificate()];
  const live = path.join(tempDir(), 'tls');
  mkdirSync(live);
  const key = path.join(live, 'key.pem');
  const cert = path.join(live, 'cert.pem');
  copyFileSync(a.key, key);
  copyFileSync(a.cert, cert);
  return { a, b, key, cert };
}

describe('SIGHUP', () => {
  it('reloads the certificate for new connections and keeps open sessions', async () => {
    const { a, b, key, cert } = liveCertificates();
    const [imapsPort] = await freePorts(1);
    const data = tempDir();
    const server = await startProcess(data, [], { TERNMAIL_TLS_KEY: key, TERNMAIL_TLS_CERT: cert, TERNMAIL_IMAPS_PORT: String(imapsPort) });
    running.push(server);
    expect((await cli(['domain', 'add', 'reload.test', '--data', data])).code).toBe(0);
    expect((await cli(['user', 'add', 'rita@reload.test', '--password', 'pw', '--data', data])).code).toBe(0);
    expect((await probeTls(imapsPort, 'implicit', TLS12)).fingerprint).toBe(fingerprint(a.cert));

    const session = await ImapsSession.open(imapsPort);
    expect(await session.command('a1', 'LOGIN rita@reload.test pw')).toMatch(/^a1 OK/m);
    copyFileSync(b.key, key);
    copyFileSync(b.cert, cert);
    await sighupAndWait(server, /TLS key and certificate reloaded/);

    expect(await session.command('a2', 'SELECT INBOX')).toMatch(/^a2 OK/m);
    expect(await session.command('a3', 'NOOP')).toMatch(/^a3 OK/m);
    const entries = [[imapsPort, 'implicit'], [server.ports.imap, 'imap-starttls'], [server.ports.smtp, 'smtp-starttls'],
      [server.ports.submission, 'smtp-starttls'], [server.ports.pop3, 'pop3-stls']] as const;
    for (const [port, entry] of entries) expect((await probeTls(port, entry, TLS12)).fingerprint, entry).toBe(fingerprint(b.cert));

    writeFileSync(key, 'not a key\n');
    await sighupAndWait(server, /TLS reload failed, keeping the previous key and certificate/);
    for (const [port, entry] of entries) expect((await probeTls(port, entry, TLS12)).fingerprint, entry).toBe(fingerprint(b.cert));
    expect(await session.command('a4', 'NOOP')).toMatch(/^a4 OK/m);
    session.close();
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).toMatch(/other settings take effect only at restart/);
  });

  it('reaches every worker of a cluster through the primary', async () => {
    const { a, b, key, cert } = liveCertificates();
    const [imapsPort] = await freePorts(1);
    const server = await startProcess(tempDir(), ['--workers', '2'], { TERNMAIL_TLS_KEY: key, TERNMAIL_TLS_CERT: cert, TERNMAIL_IMAPS_PORT: String(imapsPort) });
    running.push(server);
    await waitFor(async () => (server.output().match(/imap listening/g) ?? []).length >= 4, 15_000, 'both workers listening');
    copyFileSync(b.key, key);
    copyFileSync(b.cert, cert);
    server.child.kill('SIGHUP');
    await waitFor(async () => (server.output().match(/TLS key and certificate reloaded/g) ?? []).length >= 2, 5000, `both workers reloaded: ${server.output()}`);
    // Connections are spread over the workers: every one of several sees the new certificate.
    for (let i = 0; i < 6; i++) expect((await probeTls(imapsPort, 'implicit', TLS12)).fingerprint).toBe(fingerprint(b.cert));
    expect(server.child.exitCode).toBeNull();
  });

  it('leaves a server without TLS running', async () => {
    const data = tempDir();
    const server = await startProcess(data);
    running.push(server);
    await sighupAndWait(server, /no TLS configured, nothing to reload/);
    expect(server.child.exitCode).toBeNull();
    expect((await cli(['stats', '--data', data])).code).toBe(0);
  });
});
