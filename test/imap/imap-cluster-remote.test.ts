// A session that stays on the worker it reached (STARTTLS: not handed off) while its
// mailbox lives on the other one (`ternmail start --workers 2`): MULTIAPPEND carries all
// its bodies to the owner and files them in one batch, and NOTIFY hears of changes in
// folders it has not selected through the owner's proxy listener, as on the owner itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { TestCluster } from '../support/cluster.js';
import { selfSignedCertificate } from '../support/certificates.js';

const certificate = selfSignedCertificate();
const cluster = new TestCluster();
const users = ['r1', 'r2'].map((u) => `${u}@remote-imap.test`);

beforeAll(async () => {
  await cluster.start({ env: { TERNMAIL_TLS_KEY: certificate.key, TERNMAIL_TLS_CERT: certificate.cert } });
  await cluster.addUsers('remote-imap.test', users);
}, 60_000);

afterAll(async () => cluster.destroy());

/** A raw IMAP client over STARTTLS in Python: `run` returns everything up to the tagged answer. */
const CLIENT = `
import re, socket, ssl, sys, time
class Raw:
    def __init__(self, port, user):
        self.sock = socket.create_connection(('127.0.0.1', port))
        self.buf = b''
        self.n = 0
        self.read_until(rb'^\\* OK')
        self.run('STARTTLS')
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)
        self.buf = b''
        assert b' OK' in self.run('LOGIN %s pw' % user)
    def read_until(self, pattern, timeout=15):
        deadline = time.time() + timeout
        self.sock.settimeout(1)
        while not re.search(pattern, self.buf, re.M):
            if time.time() > deadline: raise Exception('timeout waiting for %r in %r' % (pattern, self.buf[-500:]))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk: raise Exception('closed: %r' % self.buf[-500:])
            self.buf += chunk
        m = re.search(pattern, self.buf, re.M)
        end = self.buf.index(b'\\r\\n', m.end()) + 2 if b'\\r\\n' in self.buf[m.end():] else len(self.buf)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out
    def run(self, command):
        self.n += 1
        tag = b't%d' % self.n
        data = command if isinstance(command, bytes) else command.encode()
        self.sock.sendall(tag + b' ' + data + b'\\r\\n')
        return self.read_until(rb'^' + tag + rb' (OK|NO|BAD)')
def mail(subject):
    return ('From: a@remote.test\\r\\nSubject: %s\\r\\n\\r\\n' % subject + 'line\\r\\n' * 50).encode()
def multiappend(folder, subjects):
    parts = [b'APPEND ' + folder.encode()]
    for s in subjects:
        body = mail(s)
        parts.append(b' () {%d+}\\r\\n' % len(body) + body)
    return b''.join(parts)
`;

describe('IMAP sessions not handed off to the mailbox\'s worker', () => {
  it('MULTIAPPEND files every message in one command from either worker', async () => {
    const { code, stdout, stderr } = await python(`${CLIENT}
port, user = int(sys.argv[1]), sys.argv[2]
for i in range(6):
    c = Raw(port, user)
    answer = c.run(multiappend('INBOX', ['m%d-a' % i, 'm%d-b' % i, 'm%d-c' % i]))
    assert re.search(rb'OK \\[APPENDUID \\d+ \\d+:\\d+\\]', answer), answer
    status = c.run('STATUS INBOX (MESSAGES)')
    assert b'(MESSAGES %d)' % (3 * (i + 1)) in status, status
    fetched = c.run('EXAMINE INBOX') + c.run('FETCH %d:%d (BODY.PEEK[HEADER.FIELDS (SUBJECT)])' % (3 * i + 1, 3 * i + 3))
    for s in ['m%d-a' % i, 'm%d-b' % i, 'm%d-c' % i]:
        assert ('Subject: %s' % s).encode() in fetched, fetched
    c.run('LOGOUT')
    print('ok')
`, [String(cluster.ports!.imap), users[0]!]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(Array(6).fill('ok'));
  }, 60_000);

  it('NOTIFY reports new mail, expunges and new folders in other folders, on either worker', async () => {
    const { code, stdout, stderr } = await python(`${CLIENT}
port, user = int(sys.argv[1]), sys.argv[2]
watchers = [Raw(port, user) for _ in range(6)]
for w in watchers:
    assert b' OK' in w.run('SELECT INBOX')
    answer = w.run('NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge MailboxName))')
    assert re.search(rb'^t\\d+ OK', answer, re.M), answer
other = Raw(port, user)
assert b' OK' in other.run(multiappend('Archive', ['n1', 'n2']))
assert b' OK' in other.run('CREATE Projects')
for w in watchers:
    seen = w.read_until(rb'^\\* LIST \\([^)]*\\) "/" "Projects"')
    seen += w.run('NOOP')
    assert re.search(rb'^\\* STATUS "Archive" \\([^)]*MESSAGES 2', seen, re.M), seen
other.run('SELECT Archive')
other.run('STORE 1 +FLAGS (\\\\Deleted)')
other.run('EXPUNGE')
for w in watchers:
    seen = w.read_until(rb'^\\* STATUS "Archive" \\([^)]*MESSAGES 1')
    # The selected folder still reports as without NOTIFY; the proxy outlives UNSELECT while NOTIFY holds it.
    w.run('UNSELECT')
other.run('APPEND Archive {%d+}\\r\\n%s' % (len(mail('n3')), mail('n3').decode()))
for w in watchers:
    w.read_until(rb'^\\* STATUS "Archive" \\([^)]*MESSAGES 2')
    w.run('LOGOUT')
    print('ok')
`, [String(cluster.ports!.imap), users[1]!]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(Array(6).fill('ok'));
  }, 60_000);
});
