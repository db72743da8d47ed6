// SORT (RFC 5256, SORT=DISPLAY RFC 5957, ESORT RFC 5267) and THREAD over a raw socket:
// messages appended with chosen subjects, senders and dates, answers checked in full.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';

let server: TestServer;
let users = 0;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'sort.test', Array.from({ length: 10 }, (_, i) => `u${i}`));
});

afterAll(async () => server.destroy());

interface Mail {
  subject: string;
  from: string;
  date?: string;
  extra?: string;
}

/** A fresh user with these messages appended in order, INBOX selected. */
async function mailbox(mails: Mail[]): Promise<RawImap> {
  const raw = await RawImap.open(server, `u${users++}@sort.test`);
  for (const mail of mails) {
    const body = `From: ${mail.from}\r\nSubject: ${mail.subject}\r\n${mail.date ? `Date: ${mail.date}\r\n` : ''}${mail.extra ?? ''}\r\nbody\r\n`;
    await raw.run(`APPEND INBOX {${Buffer.byteLength(body)}+}\r\n${body}`);
  }
  await raw.run('SELECT INBOX');
  return raw;
}

function untagged(answer: string, name: string): string {
  return new RegExp(`^\\* ${name}([^\\r]*)\\r`, 'm').exec(answer)?.[1]?.trim() ?? 'none';
}

describe('SORT', () => {
  const mails: Mail[] = [
    { subject: 'Re: beta', from: 'Zed <zed@x.test>', date: 'Mon, 05 Jan 2026 10:00:00 +0000' },
    { subject: 'alpha', from: 'anna@x.test', date: 'Mon, 05 Jan 2026 12:00:00 +0300' },
    { subject: '[list] Gamma', from: '"Bob" <bob@x.test>' },
    { subject: 'Fwd: ALPHA (fwd)', from: 'carl@x.test', date: 'Sun, 04 Jan 2026 09:00:00 -0500' },
  ];

  it('orders by base subject, date, sender and display name, REVERSE per key, ties by sequence', async () => {
    const raw = await mailbox(mails);
    expect(untagged(await raw.run('SORT (SUBJECT) UTF-8 ALL'), 'SORT')).toBe('2 4 1 3');
    // Message 3 has no Date: its internal date (appended last) stands in.
    expect(untagged(await raw.run('SORT (DATE) UTF-8 ALL'), 'SORT')).toBe('4 2 1 3');
    expect(untagged(await raw.run('SORT (REVERSE DATE) UTF-8 ALL'), 'SORT')).toBe('3 1 2 4');
    expect(untagged(await raw.run('SORT (FROM) UTF-8 ALL'), 'SORT')).toBe('2 3 4 1');
    expect(untagged(await raw.run('SORT (DISPLAYFROM) UTF-8 ALL'), 'SORT')).toBe('2 3 4 1');
    expect(untagged(await raw.run('SORT (REVERSE ARRIVAL) UTF-8 ALL'), 'SORT')).toBe('4 3 2 1');
    expect(untagged(await raw.run('SORT (SUBJECT REVERSE ARRIVAL) UTF-8 ALL'), 'SORT')).toBe('4 2 1 3');
    expect(untagged(await raw.run('UID SORT (SUBJECT) UTF-8 NOT FROM anna'), 'SORT')).toBe('4 1 3');
    expect(untagged(await raw.run('SORT (SUBJECT) UTF-8 FROM nobody'), 'SORT')).toBe('');
    raw.close();
  });

  it('ESORT answers ESEARCH with MIN and MAX in sort order and ALL in sort order', async () => {
    const raw = await mailbox(mails);
    const answer = await raw.run('SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL');
    expect(answer).toMatch(/\* ESEARCH \(TAG "t\d+"\) MIN 2 MAX 3 COUNT 4 ALL 2,4,1,3\r\n/);
    expect(await raw.run('UID SORT RETURN (COUNT) (DATE) UTF-8 1:2')).toMatch(/\* ESEARCH \(TAG "t\d+"\) UID COUNT 2\r\n/);
    raw.close();
  });

  it('refuses bad criteria with BAD and an unknown charset with NO [BADCHARSET]', async () => {
    const raw = await mailbox(mails.slice(0, 1));
    expect(await raw.run('SORT (COLOUR) UTF-8 ALL')).toMatch(/^t\d+ BAD /m);
    expect(await raw.run('SORT (DATE) KOI8-R ALL')).toMatch(/^t\d+ NO \[BADCHARSET/m);
    raw.close();
  });
});

describe('THREAD', () => {
  const day = (n: number) => `Mon, ${String(n).padStart(2, '0')} Feb 2026 10:00:00 +0000`;
  const mails: Mail[] = [
    { subject: 'plans', from: 'a@x.test', date: day(1), extra: 'Message-ID: <1@x>\r\n' },
    { subject: 'Re: plans', from: 'b@x.test', date: day(3), extra: 'Message-ID: <2@x>\r\nReferences: <1@x>\r\n' },
    { subject: 'other', from: 'c@x.test', date: day(2), extra: 'Message-ID: <3@x>\r\n' },
    { subject: 'Re: plans', from: 'd@x.test', date: day(4), extra: 'Message-ID: <4@x>\r\nIn-Reply-To: <1@x>\r\n' },
    { subject: 'Re: plans', from: 'e@x.test', date: day(5), extra: 'Message-ID: <5@x>\r\nReferences: <1@x> <2@x>\r\n' },
    // Its parent <9@x> is not in the mailbox: a placeholder, pruned away.
    { subject: 'Re: lost', from: 'f@x.test', date: day(6), extra: 'Message-ID: <6@x>\r\nReferences: <9@x>\r\n' },
    // No references, but the base subject of message 1: gathered under it.
    { subject: 'Fwd: plans', from: 'g@x.test', date: day(7), extra: 'Message-ID: <7@x>\r\n' },
  ];

  it('REFERENCES links by References and In-Reply-To, prunes placeholders, merges by subject', async () => {
    const raw = await mailbox(mails);
    expect(untagged(await raw.run('THREAD REFERENCES UTF-8 ALL'), 'THREAD')).toBe('(1 (2 5)(4)(7))(3)(6)');
    expect(untagged(await raw.run('UID THREAD REFERENCES UTF-8 NOT FROM c'), 'THREAD')).toBe('(1 (2 5)(4)(7))(6)');
    raw.close();
  });

  it('ORDEREDSUBJECT groups by base subject under the earliest message, threads by root date', async () => {
    const raw = await mailbox(mails);
    expect(untagged(await raw.run('THREAD ORDEREDSUBJECT UTF-8 ALL'), 'THREAD')).toBe('(1 (2)(4)(5)(7))(3)(6)');
    expect(untagged(await raw.run('THREAD ORDEREDSUBJECT UTF-8 FROM nobody'), 'THREAD')).toBe('');
    raw.close();
  });
});
