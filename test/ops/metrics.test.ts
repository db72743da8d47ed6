// GET /metrics on the admin listener, as Prometheus scrapes it: the output passes
// `promtool check metrics`, needs the admin token unless admin.metricsOpen, and its
// numbers move with real SMTP, IMAP and POP3 traffic; a --workers N cluster answers
// for all its processes, summed, with the per-process families labelled by node.
import { afterEach, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { TestCluster } from '../support/cluster.js';
import { promtool, sample, scrape } from './prometheus.js';

const running = killAfterEach(afterEach);

async function provision(data: string, users: string[]): Promise<void> {
  expect((await cli(['domain', 'add', 'example.test', '--data', data])).code).toBe(0);
  for (const user of users) expect((await cli(['user', 'add', user, '--password', 'pw', '--data', data])).code).toBe(0);
}

async function traffic(ports: ServerProcess['ports'], users: string[]): Promise<void> {
  const { stdout, stderr, code } = await python(`
import smtplib, imaplib, poplib, sys
smtp, imap, pop3 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
users = sys.argv[4].split(',')
s = smtplib.SMTP('127.0.0.1', smtp); s.ehlo('client.test')
for u in users:
    s.sendmail('someone@remote.test', [u], ('Subject: for %s\\r\\n\\r\\nhello\\r\\n' % u).encode())
s.mail('someone@remote.test'); print('unknown', s.rcpt('nobody@example.test')[0])
s.quit()
c = imaplib.IMAP4('127.0.0.1', imap)
try:
    c.login(users[0], 'wrong')
except imaplib.IMAP4.error:
    pass
c = imaplib.IMAP4('127.0.0.1', imap); c.login(users[0], 'pw'); c.select('INBOX'); c.logout()
p = poplib.POP3('127.0.0.1', pop3); p.user(users[0]); p.pass_('pw'); p.stat(); p.quit()
`, [String(ports.smtp), String(ports.imap), String(ports.pop3), users.join(',')]);
  expect(code, stderr).toBe(0);
  expect(stdout).toContain('unknown 550');
}

describe('/metrics of one process', () => {
  it('passes promtool, needs the token, and moves with SMTP, IMAP and POP3 traffic', async () => {
    const data = tempDir();
    const server = await startProcess(data);
    running.push(server);
    await provision(data, ['alice@example.test', 'bob@example.test']);

    expect((await scrape(data, false)).status).toBe(401);
    const before = await scrape(data);
    expect(before.status).toBe(200);
    expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await promtool(before.text)).toEqual({ code: 0, output: '' });

    await traffic(server.ports, ['alice@example.test', 'bob@example.test']);
    await waitFor(async () => sample((await scrape(data)).text, 'ternmail_local_deliveries_total', { result: 'done' }) === 2, 10_000, 'two deliveries');
    const after = (await scrape(data)).text;
    expect(await promtool(after)).toEqual({ code: 0, output: '' });

    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before.text, name, labels);
    expect(moved('ternmail_smtp_connections_total', { listener: 'mx' })).toBe(1);
    expect(moved('ternmail_smtp_transactions_total', { listener: 'mx', result: 'accepted' })).toBe(2);
    expect(moved('ternmail_smtp_rejections_total', { listener: 'mx', stage: 'RCPT', code: '550' })).toBe(1);
    expect(moved('ternmail_local_deliveries_total', { result: 'done' })).toBe(2);
    expect(moved('ternmail_sessions_total', { proto: 'imap' })).toBe(2);
    expect(moved('ternmail_sessions_total', { proto: 'pop3' })).toBe(1);
    expect(moved('ternmail_command_duration_seconds_count', { proto: 'imap', command: 'SELECT' })).toBe(1);
    expect(moved('ternmail_command_duration_seconds_count', { proto: 'pop3', command: 'STAT' })).toBe(1);
    expect(moved('ternmail_auth_attempts_total', { proto: 'imap', result: 'failure' })).toBe(1);
    expect(moved('ternmail_auth_attempts_total', { proto: 'imap', result: 'success' })).toBe(1);
    expect(moved('ternmail_auth_attempts_total', { proto: 'pop3', result: 'success' })).toBe(1);
    expect(after).toMatch(/^ternmail_sessions_open \d+$/m);
    expect(sample(after, 'ternmail_store_messages')).toBe(2);
    expect(sample(after, 'ternmail_store_blobs')).toBe(2);
    expect(sample(after, 'ternmail_store_blob_bytes')).toBeGreaterThan(0);
    expect(sample(after, 'ternmail_store_single_instance_ratio')).toBeGreaterThan(0);
    expect(sample(after, 'nodejs_heap_size_used_bytes', { node: 'main' })).toBeGreaterThan(0);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds\{node="main"\} /m);
  });

  it('shows the queue by destination domain', async () => {
    const data = tempDir();
    const server = await startProcess(data, [], { TERNMAIL_RETRY_SCHEDULE: '3600' });
    running.push(server);
    await provision(data, ['alice@example.test']);
    // Submitted mail for a domain whose server refuses connections waits in the queue, deferred.
    expect((await cli(['route', 'add', 'unreachable.test', '127.0.0.1:9', '--data', data])).code).toBe(0);
    const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); s.ehlo('x.test'); s.login('alice@example.test', 'pw')
s.sendmail('alice@example.test', ['one@unreachable.test', 'two@unreachable.test'], b'Subject: out\\r\\n\\r\\nbody\\r\\n')
s.quit()
`, [String(server.ports.submission)]);
    expect(code, stderr).toBe(0);
    const text = await waitFor(async () => {
      const { text } = await scrape(data);
      return sample(text, 'ternmail_queue_recipients', { domain: 'unreachable.test' }) === 2 && text;
    }, 15_000, 'two queued recipients for unreachable.test');
    const perPartition = text.split('\n').filter((l) => l.startsWith('ternmail_queue_entries{partition="'));
    expect(perPartition.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)).toBe(1);
    expect(await promtool(text)).toEqual({ code: 0, output: '' });
  });

  it('serves /metrics without the token with --admin-metrics-open', async () => {
    const data = tempDir();
    running.push(await startProcess(data, ['--admin-metrics-open', 'true']));
    const open = await scrape(data, false);
    expect(open.status).toBe(200);
    expect(open.text).toContain('ternmail_smtp_connections_total');
  });
});

describe('/metrics of a cluster', () => {
  it('sums the workers and labels each process', async () => {
    const cluster = new TestCluster();
    try {
      await cluster.start({ workers: 2 });
      await cluster.addUsers('example.test', ['u1@example.test', 'u2@example.test', 'u3@example.test', 'u4@example.test']);
      await traffic(cluster.ports!, ['u1@example.test', 'u2@example.test', 'u3@example.test', 'u4@example.test']);
      await cluster.waitDelivered(4);
      const text = await waitFor(async () => {
        const { text } = await scrape(cluster.data);
        return sample(text, 'ternmail_local_deliveries_total', { result: 'done' }) === 4 && text;
      }, 15_000, 'four deliveries summed over the workers');
      expect(await promtool(text)).toEqual({ code: 0, output: '' });
      expect(sample(text, 'ternmail_smtp_transactions_total', { result: 'accepted' })).toBe(4);
      expect(sample(text, 'ternmail_store_messages')).toBe(4);
      expect(sample(text, 'ternmail_cluster_nodes', { state: 'running' })).toBe(2);
      expect(sample(text, 'ternmail_cluster_mailboxes')).toBe(4);
      for (const node of ['primary', 'worker-1', 'worker-2']) expect(sample(text, 'nodejs_heap_size_used_bytes', { node }), node).toBeGreaterThan(0);
    } finally {
      await cluster.destroy();
    }
  });
});

describe('metric labels from client input', () => {
  it('counts refusals of unknown commands under stage OTHER, however many different ones a client sends', async () => {
    const data = tempDir();
    const server = await startProcess(data);
    running.push(server);
    const { code, stderr } = await python(`
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
f = s.makefile('rb')
f.readline()
for i in range(5):
    s.sendall(b'XYZZY%d\\r\\n' % i)
    f.readline()
s.sendall(b'QUIT\\r\\n'); f.readline()
`, [String(server.ports.smtp)]);
    expect(code, stderr).toBe(0);
    const { text } = await scrape(data);
    expect(sample(text, 'ternmail_smtp_rejections_total', { stage: 'OTHER' })).toBe(5);
    expect(text).not.toMatch(/stage="XYZZY/);
  });
});
