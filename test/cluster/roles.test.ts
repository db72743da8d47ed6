// Worker roles: with `--roles "mta,access;store"` worker 1 takes every connection and
// worker 2 holds every mailbox; mail accepted on one is delivered to and read from the other.
import { afterAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
afterAll(async () => cluster.destroy());

describe('worker roles', () => {
  it('separates access/mta and store workers', async () => {
    await cluster.start({ roles: 'mta,access;store' });
    await cluster.addUsers('roles.test', ['r1', 'r2', 'r3'].map((u) => `${u}@roles.test`));
    const { stdout, code, stderr } = await python(`
import smtplib, poplib, sys, time
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
for u in ['r1', 'r2', 'r3']:
    s.sendmail('x@remote.test', [u + '@roles.test'], ('Subject: to ' + u + '\\r\\n\\r\\nhi\\r\\n').encode())
s.quit()
time.sleep(1.5)
for u in ['r1', 'r2', 'r3']:
    p = poplib.POP3('127.0.0.1', int(sys.argv[2])); p.user(u + '@roles.test'); p.pass_('pw')
    print(u, p.stat()[0], [l.decode() for l in p.top(1, 0)[1] if l.startswith(b'Subject')])
    p.quit()
`, [String(cluster.ports!.smtp), String(cluster.ports!.pop3)]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("r1 1 ['Subject: to r1']");
    expect(stdout).toContain("r3 1 ['Subject: to r3']");
    const rows = await cluster.waitForWorkers((r) => r[1]?.mailboxes === 3);
    expect(rows.map((w) => [w.node, w.roles.join(','), w.mailboxes])).toEqual([[1, 'mta,access', 0], [2, 'store', 3]]);
  });
});
