// Logs as an operator reads them: `--log-file` reopened on SIGUSR1 after logrotate
// renamed it, `--log-format pretty`, one line per SMTP transaction and per refusal at
// every stage (with TLS version and cipher), one field name per meaning across the
// protocols, no key twice in a line, a failed login at the same level everywhere.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { python } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { linesWithDuplicateKeys, readLogLines, type LogLine } from './log-lines.js';

const running = killAfterEach(afterEach);

async function provision(data: string): Promise<void> {
  for (const args of [['domain', 'add', 'example.test'], ['user', 'add', 'alice@example.test', '--password', 'pw']]) {
    const result = await cli([...args, '--data', data]);
    expect(result.code, result.stderr).toBe(0);
  }
}

/** Every kind of SMTP refusal and one accepted message, from Python's smtplib. */
async function smtpTraffic(server: ServerProcess): Promise<void> {
  const { stdout, stderr } = await python(`
import smtplib, sys
mx, sub = int(sys.argv[1]), int(sys.argv[2])
s = smtplib.SMTP('127.0.0.1', mx); s.ehlo('client.test')
print('mail', s.mail('someone@remote.test'))
print('rcpt-unknown', s.rcpt('nobody@example.test'))
print('rcpt-relay', s.rcpt('victim@elsewhere.test'))
print('rcpt-ok', s.rcpt('alice@example.test'))
print('data', s.data(b'Subject: hi\\r\\n\\r\\nhello\\r\\n'))
s.quit()
s = smtplib.SMTP('127.0.0.1', sub); s.ehlo('client.test')
print('unauth-mail', s.mail('alice@example.test'))
s.rset()
try:
    s.login('alice@example.test', 'wrong')
except smtplib.SMTPAuthenticationError as e:
    print('login-failed', e.smtp_code)
s.login('alice@example.test', 'pw')
print('not-owned', s.mail('ceo@bank.test'))
s.quit()
`, [String(server.ports.smtp), String(server.ports.submission)]);
  expect(stdout, stderr).toContain('rcpt-unknown (550');
  expect(stdout).toContain('rcpt-relay (554');
  expect(stdout).toContain('unauth-mail (530');
  expect(stdout).toContain('not-owned (553');
  expect(stdout).toContain('login-failed 535');
}

async function failedLogins(server: ServerProcess): Promise<void> {
  await python(`
import imaplib, poplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
try:
    c.login('alice@example.test', 'wrong')
except imaplib.IMAP4.error:
    pass
p = poplib.POP3('127.0.0.1', int(sys.argv[2]))
p.user('alice@example.test')
try:
    p.pass_('wrong')
except poplib.error_proto:
    pass
`, [String(server.ports.imap), String(server.ports.pop3)]);
}

function byEvent(lines: LogLine[], event: string): LogLine[] {
  return lines.filter((l) => l.event === event);
}

describe('log file and format', () => {
  it('writes JSON lines to --log-file and, after a rename and SIGUSR1, to a new file of the same name', async () => {
    const data = tempDir();
    const logFile = path.join(tempDir(), 'ternmail.log');
    const server = await startProcess(data, ['--log-file', logFile]);
    running.push(server);
    expect(server.output()).toBe('');
    await waitFor(async () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('ternmail started'), 5000, 'start line in the log file');
    await provision(data);

    const rotated = `${logFile}.1`;
    renameSync(logFile, rotated);
    await provision(data).catch(() => undefined);
    server.child.kill('SIGUSR1');
    await waitFor(async () => existsSync(logFile), 5000, 'a new log file');
    await failedLogins(server);
    await waitFor(async () => readLogLines(logFile).some((l) => l.event === 'pop3.login-failed'), 5000, 'the failed logins in the new file');

    const before = readLogLines(rotated);
    const after = readLogLines(logFile);
    expect(before.some((l) => l.msg === 'ternmail started')).toBe(true);
    expect(before.some((l) => l.event === 'imap.login-failed')).toBe(false);
    expect(after.some((l) => l.msg === 'log file reopened')).toBe(true);
    expect(after.some((l) => l.event === 'imap.login-failed')).toBe(true);
    expect(server.child.exitCode).toBe(null);
  });

  it('writes readable lines with --log-format pretty', async () => {
    const server = await startProcess(tempDir(), ['--log-format', 'pretty']);
    running.push(server);
    const line = server.output().split('\n').find((l) => l.includes('ternmail started'))!;
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z INFO +ternmail started /);
    expect(() => JSON.parse(line)).toThrow();
  });

  it('refuses an unknown log format at start', async () => {
    const result = await cli(['start', '--data', tempDir(), '--log-format', 'xml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/logFormat.*unknown format xml/);
  });
});

describe('what is logged', () => {
  it('logs each SMTP transaction and each refusal once, a failed login at warn with the same fields in every protocol, no key twice', async () => {
    const data = tempDir();
    const logFile = path.join(tempDir(), 'ternmail.log');
    const server = await startProcess(data, ['--log-file', logFile]);
    running.push(server);
    await provision(data);
    await smtpTraffic(server);
    await failedLogins(server);
    await waitFor(async () => byEvent(readLogLines(logFile), 'pop3.login-failed').length > 0, 5000, 'the log lines');
    const lines = readLogLines(logFile);

    const transactions = lines.filter((l) => l.msg === 'smtp transaction');
    expect(transactions).toHaveLength(1);
    expect(transactions[0]).toMatchObject({ result: 'queued', client: '127.0.0.1', from: 'someone@remote.test', rcpts: ['alice@example.test'] });

    const refusals = byEvent(lines, 'smtp.refused');
    const codes = refusals.map((l) => `${l.stage} ${l.code}`).sort();
    expect(codes).toEqual(['MAIL 530', 'MAIL 553', 'RCPT 550', 'RCPT 554']);
    for (const line of refusals) expect(line).toMatchObject({ client: '127.0.0.1', level: 30 });
    expect(refusals.find((l) => l.code === 550)!.command).toMatch(/^rcpt TO:<nobody@example.test>$/i);
    expect(refusals.find((l) => l.code === 553)!.user).toBe('alice@example.test');

    const failed = ['smtp', 'imap', 'pop3'].map((proto) => byEvent(lines, `${proto}.login-failed`)[0]);
    for (const [i, proto] of ['smtp', 'imap', 'pop3'].entries()) {
      expect(failed[i], proto).toMatchObject({ level: 40, proto, client: '127.0.0.1', user: 'alice@example.test' });
    }
    expect(lines.some((l) => 'remoteAddress' in l)).toBe(false);
    expect(await linesWithDuplicateKeys(logFile)).toEqual([]);
  });

  it('puts the TLS version and cipher into transaction and refusal lines', async () => {
    const { key, cert } = selfSignedCertificate();
    const dir = tempDir();
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ net: { tls: { key, cert } } }));
    const data = tempDir();
    const logFile = path.join(dir, 'ternmail.log');
    const server = await startProcess(data, ['--config', configFile, '--log-file', logFile]);
    running.push(server);
    await provision(data);
    const { stdout, stderr } = await python(`
import smtplib, ssl, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); s.ehlo('client.test')
s.starttls(context=ssl._create_unverified_context()); s.ehlo('client.test')
s.mail('someone@remote.test')
print('rcpt-unknown', s.rcpt('nobody@example.test'))
s.rcpt('alice@example.test')
print('data', s.data(b'Subject: tls\\r\\n\\r\\nhello\\r\\n'))
s.quit()
`, [String(server.ports.smtp)]);
    expect(stdout, stderr).toContain('data (250');
    await waitFor(async () => readLogLines(logFile).some((l) => l.msg === 'smtp transaction'), 5000, 'the transaction line');
    const lines = readLogLines(logFile);
    const transaction = lines.find((l) => l.msg === 'smtp transaction')!;
    const refusal = byEvent(lines, 'smtp.refused')[0];
    for (const line of [transaction, refusal]) {
      expect(line.tlsVersion).toMatch(/^TLSv1\.[23]$/);
      expect(line.tlsCipher).toMatch(/^TLS_|^ECDHE/);
    }
  });
});

describe('reload on SIGHUP', () => {
  it('changes the log level live, names the settings that wait for a restart, and keeps going on an invalid file', async () => {
    const dir = tempDir();
    const configFile = path.join(dir, 'ternmail.json');
    const logFile = path.join(dir, 'ternmail.log');
    writeFileSync(configFile, JSON.stringify({ log: { level: 'info', file: logFile } }));
    const data = tempDir();
    const server = await startProcess(data, ['--config', configFile, '--log-file', logFile]);
    running.push(server);
    await provision(data);
    expect(readLogLines(logFile).some((l) => l.level === 20)).toBe(false);

    writeFileSync(configFile, JSON.stringify({ log: { level: 'debug', file: logFile }, smtp: { maxRecipients: 5 } }));
    server.child.kill('SIGHUP');
    await waitFor(async () => readLogLines(logFile).some((l) => l.msg === 'reload: log level changed'), 5000, 'the level change');
    const lines = readLogLines(logFile);
    expect(lines.find((l) => l.msg === 'reload: log level changed')).toMatchObject({ from: 'info', to: 'debug' });
    expect(lines.find((l) => l.msg === 'reload: these changed settings take effect at the next restart')).toMatchObject({ settings: ['smtp.maxRecipients'] });
    const sent = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); s.sendmail('a@remote.test', ['alice@example.test'], b'Subject: x\\r\\n\\r\\nx\\r\\n'); s.quit()
`, [String(server.ports.smtp)]);
    expect(sent.code, sent.stderr).toBe(0);
    await waitFor(async () => readLogLines(logFile).some((l) => l.level === 20 && l.msg === 'stored'), 5000, 'the debug line of a delivery');

    writeFileSync(configFile, '{ not json');
    server.child.kill('SIGHUP');
    await waitFor(async () => readLogLines(logFile).some((l) => /reload: the configuration is invalid/.test(String(l.msg))), 5000, 'the refusal');
    expect(server.child.exitCode).toBe(null);
    expect((await cli(['stats', '--data', data])).code).toBe(0);
  });
});
