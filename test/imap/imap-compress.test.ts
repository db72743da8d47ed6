// COMPRESS=DEFLATE (RFC 4978): after the OK both directions are raw DEFLATE; a
// message fetched through the compressed stream is byte-identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { deliver, message } from './imap-support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'zip.test', ['mo']);
  await deliver(server, ['mo@zip.test'], message('squeeze', `${'compressible line\r\n'.repeat(2000)}`));
});

afterAll(async () => server.destroy());

const CLIENT = `
import socket, sys, zlib
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
f = s.makefile('rb')
def line(): return f.readline().decode()
line()
s.sendall(b'a1 LOGIN mo@zip.test pw\\r\\n')
while not line().startswith('a1 '): pass
s.sendall(b'a2 COMPRESS DEFLATE\\r\\n')
print(line().strip())
out = zlib.compressobj(wbits=-15)
inp = zlib.decompressobj(wbits=-15)
def send(text):
    s.sendall(out.compress(text) + out.flush(zlib.Z_SYNC_FLUSH))
buf = b''
def until(tag):
    global buf
    while (b'\\r\\n' + tag + b' ') not in (b'\\r\\n' + buf):
        buf += inp.decompress(s.recv(65536))
    i = (b'\\r\\n' + buf).index(b'\\r\\n' + tag + b' ')
    end = buf.index(b'\\r\\n', i) + 2
    text, buf = buf[:end], buf[end:]
    return text
send(b'a3 SELECT INBOX\\r\\n')
print(until(b'a3').split(b'\\r\\n')[-2].decode())
send(b'a4 FETCH 1 BODY.PEEK[TEXT]\\r\\n')
answer = until(b'a4')
print('body', answer.count(b'compressible line'))
send(b'a5 COMPRESS DEFLATE\\r\\n')
print(until(b'a5').decode().strip())
send(b'a6 LOGOUT\\r\\n')
print(until(b'a6').decode().split('\\r\\n')[-2])
`;

describe('IMAP COMPRESS=DEFLATE', () => {
  it('compresses both directions after the OK', async () => {
    const { stdout, code, stderr } = await python(CLIENT, [String(server.ports.imap)]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('a2 OK DEFLATE active');
    expect(stdout).toMatch(/a3 OK \[READ-WRITE\]/);
    expect(stdout).toContain('body 2000');
    expect(stdout).toContain('a5 NO [COMPRESSIONACTIVE]');
    expect(stdout).toContain('a6 OK');
  });
});
