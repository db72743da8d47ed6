// Python's poplib as an independent, real-world POP3 client against the server:
// USER/PASS, STAT, LIST, RETR (with dot-unstuffing on its side), DELE, QUIT,
// UIDL, TOP, and STLS with certificate verification.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend, storedMessage } from './memory-backend.js';
import { makeSelfSignedCertificate, startServer, stopServers, type SelfSignedCertificate } from './server-fixture.js';

const run = promisify(execFile);

const FIRST = 'From: a@example.com\r\nSubject: first\r\n\r\n.starts with a dot\r\n..two dots\r\nplain\r\n';
const SECOND = 'Subject: second\r\n\r\nno final newline';

const SCRIPT = `
import json, poplib, ssl, sys
port, mode, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
client = poplib.POP3('127.0.0.1', port, timeout=10)
out = {'welcome': client.getwelcome().decode()}
if mode == 'stls':
    context = ssl.create_default_context(cafile=cafile)
    out['stls'] = client.stls(context=context).decode()
    out['cipher'] = client.sock.cipher()[1]
out['capa'] = sorted(client.capa().keys())
client.user('alice')
out['pass'] = client.pass_('secret').decode()
out['stat'] = list(client.stat())
out['list'] = [line.decode() for line in client.list()[1]]
out['uidl'] = [line.decode() for line in client.uidl()[1]]
out['retr'] = [[line.decode() for line in client.retr(n)[1]] for n in (1, 2)]
out['top'] = [line.decode() for line in client.top(1, 1)[1]]
out['dele'] = client.dele(1).decode()
out['quit'] = client.quit().decode()
print(json.dumps(out))
`;

let certificate: SelfSignedCertificate;

beforeAll(() => {
  certificate = makeSelfSignedCertificate();
});

afterEach(stopServers);

async function runPoplib(port: number, mode: 'plain' | 'stls'): Promise<Record<string, unknown>> {
  const { stdout } = await run('python3', ['-c', SCRIPT, String(port), mode, certificate.certPath], { timeout: 20_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

function backendWithMail(): MemoryBackend {
  const backend = new MemoryBackend();
  backend.addUser('alice', 'secret', [storedMessage('uid-1', FIRST), storedMessage('uid-2', SECOND)]);
  return backend;
}

describe('Python poplib as a client', () => {
  it('reads, deletes and quits over a plain loopback connection', async () => {
    const { port, backend } = await startServer({}, backendWithMail());
    const result = await runPoplib(port, 'plain');
    expect(result).toMatchObject({
      welcome: '+OK ternmail POP3 server ready',
      pass: `+OK maildrop has 2 messages (${FIRST.length + SECOND.length} octets)`,
      stat: [2, FIRST.length + SECOND.length],
      list: [`1 ${FIRST.length}`, `2 ${SECOND.length}`],
      uidl: ['1 uid-1', '2 uid-2'],
      retr: [
        ['From: a@example.com', 'Subject: first', '', '.starts with a dot', '..two dots', 'plain'],
        ['Subject: second', '', 'no final newline'],
      ],
      top: ['From: a@example.com', 'Subject: first', '', '.starts with a dot'],
      dele: '+OK message 1 deleted',
      quit: '+OK ternmail POP3 server signing off (1 messages deleted)',
    });
    expect(result.capa).toEqual(['AUTH-RESP-CODE', 'IMPLEMENTATION', 'PIPELINING', 'RESP-CODES', 'SASL', 'TOP', 'UIDL', 'USER']);
    expect(backend.events).toEqual([{ kind: 'commit', userId: 'id-alice', deleted: [0] }]);
  });

  it('upgrades with stls() and verifies the certificate', async () => {
    const { port, backend } = await startServer({ tls: { key: certificate.key, cert: certificate.cert } }, backendWithMail());
    const result = await runPoplib(port, 'stls');
    expect(result.stls).toBe('+OK begin TLS negotiation');
    expect(String(result.cipher)).toMatch(/^TLS/);
    expect(result.capa).not.toContain('STLS');
    expect(result.stat).toEqual([2, FIRST.length + SECOND.length]);
    expect(result.quit).toBe('+OK ternmail POP3 server signing off (1 messages deleted)');
    expect(backend.events).toEqual([{ kind: 'commit', userId: 'id-alice', deleted: [0] }]);
  });
});
