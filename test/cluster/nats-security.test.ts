// A node joins NATS servers that demand credentials and TLS: the server (a real
// nats-server) requires TLS with a client certificate from the test's CA, and accepts
// a user/password or an NKey. One node gives user:password in the --cluster URL with
// --nats-ca/--nats-cert/--nats-key; the other an NKey seed file with the CA. Both join
// and carry mail between them; a node without the client certificate, or with a
// wrong password, does not join. Certificates are made in the test with openssl.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { cleanUpAfterEach, NODE_PORTS, startNats, TestNode, type NatsServer } from '../support/nats.js';
import { cli } from '../support/process.js';
import { tempDir } from '../support/server.js';
import { natsConnectionOf } from '../../src/cluster/nats-connection.js';
import { clusterSection } from '../../src/cluster/settings.js';

const NATS_HOST = '127.0.0.18';
const NATS_PORT = 45223;
const HOSTS = ['127.0.0.19', '127.0.0.20'];

const nodes: TestNode[] = [];
const servers: NatsServer[] = [];
cleanUpAfterEach(afterEach, nodes, servers);

/** A CA, a server certificate for NATS_HOST and a client certificate, all signed by the CA. */
function certificates(): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const dir = tempDir('ternmail-nats-tls-');
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=ternmail test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'));
  for (const [name, subject, ext] of [['server', '/CN=nats', `subjectAltName=IP:${NATS_HOST}`], ['client', '/CN=ternmail-node', 'extendedKeyUsage=clientAuth']]) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject!, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
    writeFileSync(file(`${name}.ext`), `${ext}\n`);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`));
  }
  return { ca: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server.key'), clientCert: file('client.pem'), clientKey: file('client.key') };
}

describe('NATS with credentials and TLS', () => {
  it('joins nodes to NATS servers that require TLS with client certificates and a password or an NKey', async () => {
    const certs = certificates();
    const user = nkeys.createUser();
    const seedFile = path.join(tempDir('ternmail-nkey-'), 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
    const nats = await startNats(NATS_HOST, NATS_PORT, [
      `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }`,
      `authorization { users: [ { user: "node", password: "s3cret pw" }, { nkey: "${user.getPublicKey()}" } ] }`,
    ].join('\n'));
    servers.push(nats);
    const withPassword = `nats://node:${encodeURIComponent('s3cret pw')}@${NATS_HOST}:${NATS_PORT}`;
    const tlsFlags = ['--nats-ca', certs.ca, '--nats-cert', certs.clientCert, '--nats-key', certs.clientKey];
    const one = new TestNode(1, HOSTS[0], [withPassword], tlsFlags);
    const two = new TestNode(2, HOSTS[1], [`tls://${NATS_HOST}:${NATS_PORT}`], [...tlsFlags, '--nats-nkey', seedFile]);
    nodes.push(one, two);
    await Promise.all([one.start(), two.start()]);
    await one.waitForNodes((rows) => rows.filter((r) => r.status === 'up').length === 2);
    // The password never appears in the logs.
    expect(one.output).not.toContain('s3cret');

    expect((await one.cli(['domain', 'add', 'secure.test'])).code).toBe(0);
    expect((await two.cli(['user', 'add', 'u@secure.test', '--password', 'pw'])).code).toBe(0);
    const { code, stdout, stderr } = await python(`
import smtplib, poplib, sys, time
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2])); s.sendmail('a@remote.test', ['u@secure.test'], b'Subject: over tls\\r\\n\\r\\nhi\\r\\n'); s.quit()
for _ in range(100):
    p = poplib.POP3(sys.argv[3], int(sys.argv[4])); p.user('u@secure.test'); p.pass_('pw'); n = p.stat()[0]; p.quit()
    if n: break
    time.sleep(0.1)
print(n)
`, [HOSTS[0], String(NODE_PORTS.smtp), HOSTS[1], String(NODE_PORTS.pop3)]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toBe('1');

    // Without a client certificate, or with a wrong password, a node does not get in.
    const outsiders = [
      new TestNode(3, '127.0.0.11', [withPassword], ['--nats-ca', certs.ca]),
      new TestNode(4, '127.0.0.2', [`nats://node:wrong@${NATS_HOST}:${NATS_PORT}`], tlsFlags),
    ];
    nodes.push(...outsiders);
    await Promise.all(outsiders.map(async (outsider) => {
      await expect(outsider.start(4_000)).rejects.toThrow(/did not start|exited/);
      expect(outsider.output).not.toMatch(/node joined the cluster/);
      await outsider.kill();
    }));
  }, 90_000);

  it('reads credentials from the URLs and the settings, and refuses half a client certificate', async () => {
    const settings = { ...Object.fromEntries(Object.entries(clusterSection.settings).map(([k, d]) => [k, d.default])) } as Parameters<typeof natsConnectionOf>[1];
    expect(natsConnectionOf('nats://tok3n@h1:4222,tls://h2', settings)).toEqual({ servers: ['h1:4222', 'h2:4222'], security: { token: 'tok3n', tls: { checkServerIdentity: expect.any(Function) } } });
    expect(natsConnectionOf('nats://u:p%40ss@h1:5222', settings)).toEqual({ servers: ['h1:5222'], security: { user: 'u', pass: 'p@ss' } });
    expect(natsConnectionOf('nats://u:p@h1', { ...settings, natsUser: 'set', natsPassword: 'pw' }).security).toEqual({ user: 'set', pass: 'pw' });
    const half = await cli(['start', '--cluster', 'nats://127.0.0.1:1', '--node-id', '1', '--nats-cert', '/x.pem', '--data', tempDir()]);
    expect([half.code, half.stderr]).toEqual([2, expect.stringMatching(/natsCert and natsKey/)]);
  });
});
