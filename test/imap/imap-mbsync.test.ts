// mbsync (isync) against the real server: a full two-way sync of several folders with
// flags into a local Maildir, a second sync that transfers nothing, then a change on
// each side (new mail and a flag on the server, a flag and a new draft locally) propagates.
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, run } from '../support/clients.js';
import { provision, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

const haveMbsync = existsSync('/usr/bin/mbsync');
let server: TestServer;
let home: string;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'mb.test', ['sync']);
  home = tempDir('ternmail-mbsync-');
});

afterAll(async () => server.destroy());

function writeConfig(): string {
  const rc = path.join(home, 'mbsyncrc');
  mkdirSync(path.join(home, 'mail'), { recursive: true });
  mkdirSync(path.join(home, 'state'), { recursive: true });
  writeFileSync(rc, [
    'IMAPAccount ternmail', 'Host 127.0.0.1', `Port ${server.ports.imap}`, 'User sync@mb.test', 'Pass pw',
    'SSLType None', 'AuthMechs LOGIN', '',
    'IMAPStore remote', 'Account ternmail', '',
    'MaildirStore local', `Path ${home}/mail/`, `Inbox ${home}/mail/INBOX`, 'SubFolders Verbatim', '',
    'Channel sync', 'Far :remote:', 'Near :local:', 'Patterns *', 'Create Both', 'Expunge Both',
    `SyncState ${home}/state/`, 'Sync All', '',
  ].join('\n'));
  return rc;
}

/** Runs one sync with the IMAP traffic traced; returns what it changed on the server and fetched from it. */
async function mbsync(rc: string): Promise<{ trace: string; transfers: string[] }> {
  const { code, stdout, stderr } = await run('mbsync', ['-Dn', '-c', rc, '-a']);
  const trace = `${stdout}\n${stderr}`;
  expect(code, trace.slice(-4000)).toBe(0);
  const transfers = trace.split('\n').filter((line) => /^>>> \d+ (APPEND|UID STORE|UID MOVE|UID COPY|UID EXPUNGE|EXPUNGE)|BODY\.PEEK\[\]/.test(line));
  return { trace, transfers };
}

/** Maildir file names of a folder (cur and new). */
function maildir(folder: string): string[] {
  const base = path.join(home, 'mail', folder);
  return ['cur', 'new'].flatMap((sub) => (existsSync(path.join(base, sub)) ? readdirSync(path.join(base, sub)).map((f) => `${sub}/${f}`) : []));
}

describe.skipIf(!haveMbsync)('mbsync two-way sync', () => {
  it('syncs folders and flags both ways, and a second run transfers nothing', async () => {
    for (const n of [1, 2, 3]) await deliver(server, ['sync@mb.test'], message(`inbox ${n}`));
    const setup = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('sync@mb.test', 'pw')
c.create('Work')
c.create('Work/Reports')
c.append('Work', '(\\\\Seen \\\\Flagged)', None, b'Subject: w1\\r\\nMessage-ID: <w1@x>\\r\\n\\r\\nwork one\\r\\n')
c.append('Work', '(\\\\Answered)', None, b'Subject: w2\\r\\nMessage-ID: <w2@x>\\r\\n\\r\\nwork two\\r\\n')
c.append('Work/Reports', '()', None, b'Subject: r1\\r\\nMessage-ID: <r1@x>\\r\\n\\r\\nreport\\r\\n')
c.select('INBOX')
c.store('1', '+FLAGS', '(\\\\Seen)')
c.logout()
`, [String(server.ports.imap)]);
    expect(setup.code, setup.stderr).toBe(0);
    const rc = writeConfig();

    await mbsync(rc);
    expect(maildir('INBOX')).toHaveLength(3);
    expect(maildir('Work')).toHaveLength(2);
    expect(maildir('Work/Reports')).toHaveLength(1);
    expect(maildir('Work').some((f) => f.endsWith(':2,FS'))).toBe(true);
    expect(maildir('Work').some((f) => f.endsWith(':2,R'))).toBe(true);
    expect(maildir('INBOX').filter((f) => f.endsWith(':2,S'))).toHaveLength(1);

    const second = await mbsync(rc);
    expect(second.transfers).toEqual([]);

    // Server side: a new message and a flag; local side: a flag and a new message.
    await deliver(server, ['sync@mb.test'], message('inbox 4'));
    const raw = await RawImap.open(server, 'sync@mb.test');
    await raw.run('SELECT Work');
    await raw.run('UID STORE 2 +FLAGS (\\Flagged)');
    raw.close();
    const unflagged = maildir('INBOX').find((f) => !f.endsWith(':2,S'))!;
    const base = path.join(home, 'mail', 'INBOX');
    renameSync(path.join(base, unflagged), path.join(base, 'cur', `${path.basename(unflagged).replace(/:2,.*$/, '')}:2,F`));
    writeFileSync(path.join(home, 'mail', 'Work', 'new', `${Date.now()}.local.test`), 'Subject: local\r\nMessage-ID: <l1@x>\r\n\r\nwritten locally\r\n');

    const third = await mbsync(rc);
    expect(third.transfers.some((line) => line.includes('APPEND'))).toBe(true);
    expect(third.transfers.some((line) => line.includes('UID STORE'))).toBe(true);
    expect(maildir('INBOX')).toHaveLength(4);
    expect(maildir('Work').filter((f) => f.endsWith(':2,FR') || f.endsWith(':2,RF'))).toHaveLength(1);
    const check = await RawImap.open(server, 'sync@mb.test');
    expect(await check.run('SELECT Work')).toContain('* 3 EXISTS');
    await check.run('SELECT INBOX');
    expect(await check.run('SEARCH FLAGGED')).toMatch(/\* SEARCH \d+\r\n/);
    check.close();

    const fourth = await mbsync(rc);
    expect(fourth.transfers).toEqual([]);
  }, 60_000);
});
