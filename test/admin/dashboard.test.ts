// The dashboard in a real headless browser (Debian's chromium driven by
// playwright-core): logging in with the form and with /?token=, numbers that match
// the CLI's, the queue by destination with hold/release/delete/flush acting on the
// real queue, unblocking a locked account, recent rejections (before DATA and after
// it: size, a content filter at the data hook, LMTP over quota), the largest mailboxes,
// and screenshots. A wrong token or a cross-site request gets nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { python } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, freePorts, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { TestCluster } from '../support/cluster.js';

const running = killAfterEach(afterEach);
let browser: Browser;

beforeAll(async () => {
  // playwright gives every launch a fresh, temporary profile (its own --user-data-dir).
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => browser?.close());

async function ok(args: string[]): Promise<string> {
  const result = await cli(args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

function admin(data: string): { url: string; token: string } {
  return JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8'));
}

const contentFilter = fileURLToPath(new URL('./fixtures/content-filter.mjs', import.meta.url));

/**
 * A server with three users, two messages stored, two waiting for an unreachable
 * destination, one locked account, and refusals: one at RCPT, three after DATA (too
 * large, refused by a content filter plugin, over quota over LMTP).
 */
async function busyServer(): Promise<{ server: ServerProcess; data: string }> {
  const data = tempDir();
  const config = path.join(tempDir(), 'ternmail.json');
  writeFileSync(config, JSON.stringify({ plugins: [{ module: contentFilter }] }));
  const [lmtp] = await freePorts(1);
  const server = await startProcess(data, ['--max-auth-failures-per-account', '2', '--config', config, '--max-message-size', '20000', '--lmtp-port', String(lmtp)],
    { TERNMAIL_RETRY_SCHEDULE: '3600' });
  running.push(server);
  await ok(['domain', 'add', 'example.test', '--data', data]);
  await ok(['user', 'add', 'alice@example.test', '--password', 'pw', '--quota', '1000000', '--data', data]);
  await ok(['user', 'add', 'bob@example.test', '--password', 'pw', '--data', data]);
  await ok(['user', 'add', 'tiny@example.test', '--password', 'pw', '--quota', '300', '--data', data]);
  await ok(['route', 'add', 'slow.test', '127.0.0.1:9', '--data', data]);
  const { code, stderr } = await python(`
import smtplib, imaplib, sys
mx, sub, imap, lmtp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = smtplib.SMTP('127.0.0.1', mx)
s.sendmail('a@remote.test', ['alice@example.test'], b'Subject: one\\r\\n\\r\\nhello\\r\\n')
s.sendmail('a@remote.test', ['alice@example.test'], b'Subject: two\\r\\n\\r\\nhello again\\r\\n')
# Refused after DATA: too large (no SIZE given at MAIL), then by the content filter.
for subject, size, code in ((b'big', 30000, 552), (b'spam offer', 10, 554)):
    s.mail('a@remote.test'); s.rcpt('alice@example.test')
    reply = s.data(b'Subject: ' + subject + b'\\r\\n\\r\\n' + b'x' * size + b'\\r\\n')
    assert reply[0] == code, reply
s.mail('a@remote.test'); s.rcpt('nobody@example.test'); s.quit()
l = smtplib.LMTP('127.0.0.1', lmtp); l.ehlo('relay.test'); l.mail('a@remote.test'); l.rcpt('tiny@example.test')
reply = l.data(b'Subject: too much for tiny\\r\\n\\r\\n' + b'y' * 1000 + b'\\r\\n')
assert reply[0] == 552, reply
l.quit()
s = smtplib.SMTP('127.0.0.1', sub); s.login('bob@example.test', 'pw')
s.sendmail('bob@example.test', ['x@slow.test'], b'Subject: out 1\\r\\n\\r\\nbody\\r\\n')
s.sendmail('bob@example.test', ['y@slow.test'], b'Subject: out 2\\r\\n\\r\\nbody\\r\\n')
s.quit()
for i in range(3):
    c = imaplib.IMAP4('127.0.0.1', imap)
    try:
        c.login('alice@example.test', 'wrong')
    except imaplib.IMAP4.error:
        pass
`, [String(server.ports.smtp), String(server.ports.submission), String(server.ports.imap), String(lmtp)]);
  expect(code, stderr).toBe(0);
  await waitFor(async () => JSON.parse(await ok(['stats', '--data', data])).messages === 2, 10_000, 'two stored messages');
  return { server, data };
}

async function loggedIn(data: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(admin(data).url + '/');
  await page.fill('#token', admin(data).token);
  await page.click('#login');
  await page.waitForSelector('#stat-messages');
  return page;
}

async function queueLines(data: string): Promise<string> {
  return ok(['queue', 'list', '--data', data]);
}

describe('dashboard', () => {
  it('refuses a wrong token, logs in with the form, shows the numbers the CLI shows, and takes a screenshot', async () => {
    const { data } = await busyServer();
    const page = await browser.newPage();
    await page.goto(admin(data).url + '/');
    await page.fill('#token', 'not-the-token');
    await page.click('#login');
    expect(await page.textContent('#login-error')).toBe('wrong token');
    expect((await page.request.get(admin(data).url + '/v1/dashboard')).status()).toBe(401);

    const dash = await loggedIn(data);
    const stats = JSON.parse(await ok(['stats', '--data', data]));
    await waitFor(async () => (await dash.textContent('#stat-messages')) === String(stats.messages), 5000, 'messages on the page');
    expect(await dash.textContent('#stat-queued')).toBe(String(stats.queued));
    expect(await dash.textContent('#stat-users')).toBe('3');
    expect(await dash.textContent('#total-received')).toBe('4');
    expect(await dash.textContent('#total-delivered')).toBe('2');

    const slow = dash.locator('tbody[data-domain="slow.test"] tr').first();
    expect(await slow.locator('td').nth(1).textContent()).toBe('2');
    const cliQueue = await queueLines(data);
    for (const id of await dash.locator('tr[data-queue-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue-id')))) expect(cliQueue).toContain(id!);

    // Newest first: time, listener, client, stage, code, reply (the reason).
    const rejections = await dash.locator('#rejection-rows tr').allTextContents();
    expect(rejections.map((row) => row.slice(8))).toEqual([
      expect.stringMatching(/^lmtp127\.0\.0\.1DATA552.*5\.2\.2 <tiny@example\.test>: Mailbox full/),
      expect.stringMatching(/^mx127\.0\.0\.1RCPT550/),
      expect.stringMatching(/^mx127\.0\.0\.1DATA554.*5\.7\.1 Message content rejected/),
      expect.stringMatching(/^mx127\.0\.0\.1DATA552.*5\.3\.4 Message size exceeds/),
    ]);
    expect(await dash.locator('tr[data-user="alice@example.test"] td').allTextContents()).toEqual(['alice@example.test', '2', expect.stringMatching(/^\d+$/), expect.stringMatching(/^0\.\d%$/)]);

    const shot = path.join(process.env.TERNMAIL_SCREENSHOTS ?? tempDir(), 'dashboard.png');
    await dash.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });

  it('holds, releases and deletes queued mail and unblocks an account, as the CLI then sees it', async () => {
    const { server, data } = await busyServer();
    const page = await browser.newPage();
    await page.goto(`${admin(data).url}/?token=${admin(data).token}`);
    await page.waitForSelector('tr[data-queue-id]');
    const [first, second] = await page.locator('tr[data-queue-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue-id')!));

    await page.click(`tr[data-queue-id="${first}"] button.hold`);
    await waitFor(async () => (await queueLines(data)).includes(`${first}!`), 5000, 'the message held');
    await page.waitForSelector(`tr[data-queue-id="${first}"] button.release`);
    await page.click(`tr[data-queue-id="${first}"] button.release`);
    await waitFor(async () => !(await queueLines(data)).includes(`${first}!`), 5000, 'the message released');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click(`tr[data-queue-id="${second}"] button.delete`);
    await waitFor(async () => !(await queueLines(data)).includes(second), 5000, 'the message deleted');
    await waitFor(async () => (await page.locator(`tr[data-queue-id="${second}"]`).count()) === 0, 5000, 'the row gone');

    await page.click('tbody[data-domain="slow.test"] button.flush');
    await waitFor(async () => /flush: done/.test((await page.textContent('#last-action')) ?? ''), 5000, 'flush done');

    expect(await ok(['auth', 'blocked', '--data', data])).toContain('alice@example.test');
    await page.click('tr[data-blocked="alice@example.test"] button.unblock');
    await waitFor(async () => !(await ok(['auth', 'blocked', '--data', data])).includes('alice@example.test'), 5000, 'alice unblocked');
    const login = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); c.login('alice@example.test', 'pw'); print('ok')
`, [String(server.ports.imap)]);
    expect(login.stdout.trim()).toBe('ok');
    await page.screenshot({ path: path.join(tempDir(), 'after-actions.png') });
  });

  it('refuses a state change carried by the cookie alone (cross-site request)', async () => {
    const { data } = await busyServer();
    const page = await loggedIn(data);
    const cookies = await page.context().cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const id = (await queueLines(data)).match(/^([0-9A-Za-z.]+)\s+\d+ /m)![1];
    const forged = await fetch(`${admin(data).url}/v1/queue/${id}/delete`, { method: 'POST', headers: { cookie } });
    expect(forged.status).toBe(401);
    expect(await queueLines(data)).toContain(id);
  });

  it('shows a cluster\'s workers with their state and mailboxes, the throughput summed over them, and per-user usage', async () => {
    const cluster = new TestCluster();
    try {
      await cluster.start({ workers: 2 });
      await cluster.addUsers('example.test', ['u1@example.test', 'u2@example.test', 'u3@example.test']);
      const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
for u in ['u1', 'u2', 'u3']:
    s.sendmail('a@remote.test', [u + '@example.test'], b'Subject: hi\\r\\n\\r\\nhello\\r\\n')
s.quit()
`, [String(cluster.ports!.smtp)]);
      expect(code, stderr).toBe(0);
      await cluster.waitDelivered(3);
      const page = await loggedIn(cluster.data);
      await page.waitForSelector('#cluster-rows tr');
      const rows = await page.locator('#cluster-rows tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      expect(rows.map((r) => [r[0], r[1]])).toEqual([['1', 'running'], ['2', 'running']]);
      expect(rows.reduce((n, r) => n + Number(r[2]), 0)).toBe(3);
      await waitFor(async () => (await page.textContent('#total-delivered')) === '3', 5000, 'three deliveries summed');
      expect(await page.textContent('#total-received')).toBe('3');
      // Per-user usage, each mailbox from the worker that holds it, as `user show` has it.
      await page.waitForSelector('tr[data-user="u3@example.test"]');
      for (const user of ['u1@example.test', 'u2@example.test', 'u3@example.test']) {
        const shown = await ok(['user', 'show', user, '--data', cluster.data]);
        const bytes = /^usage: +(\d+) bytes in 1 messages/m.exec(shown)?.[1];
        expect(await page.locator(`tr[data-user="${user}"] td`).allTextContents()).toEqual([user, '1', bytes, expect.stringMatching(/%$|^unlimited$/)]);
      }
    } finally {
      await cluster.destroy();
    }
  });
});
