// The index of a folder whose last session left stays in the mailbox actor (issue 16: a
// client logging in again, the churn of imaptest, SELECTs without reading the folder from
// disk): one such index per mailbox, none past MAX_IDLE_INDEX messages, and over a real
// server it stays current with what changed while nobody had the folder selected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { newFolder, type MessageRecord } from '../../src/store/mailbox-store.js';
import { leaveSelection, MAX_IDLE_INDEX, type MailboxState, type Selection } from '../../src/mailbox/state.js';
import type { FolderEventMessage } from '../../src/mailbox/imap-messages.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from '../imap/imap-support.js';

const listener = {} as Ref<FolderEventMessage>;

function selectionOf(count: number, sessions: string[]): Selection {
  const messages = new Map<number, MessageRecord>();
  for (let uid = 1; uid <= count; uid++) messages.set(uid, { uid, blob: `b${uid}`, size: 1, flags: [], internalDate: 0, modseq: 1 });
  return { messages, sessions: new Map(sessions.map((s) => [s, { listener, readOnly: false }])) };
}

function stateWith(selections: Array<[number, Selection]>): MailboxState {
  const selectedBy = new Map<string, number>();
  for (const [id, selection] of selections) for (const session of selection.sessions.keys()) selectedBy.set(session, id);
  return {
    account: { mailboxId: 'm', nextFolderId: 4, messages: 0, bytes: 0 },
    folders: new Map([1, 2, 3].map((id) => [id, newFolder(id, `F${id}`, null)])), popSession: null,
    selections: new Map(selections), selectedBy, heldBodies: new Map(), parked: null, movedTo: null,
  };
}

describe('the index of a folder nobody has selected', () => {
  it('is kept when the last session leaves, one per mailbox, and not past the size bound', () => {
    const state = stateWith([[1, selectionOf(3, ['a', 'b'])], [2, selectionOf(2, ['c'])], [3, selectionOf(MAX_IDLE_INDEX + 1, ['d'])]]);
    leaveSelection(state, 'a');
    leaveSelection(state, 'b');
    expect([...state.selections.keys()].sort()).toEqual([1, 2, 3]);
    expect(state.selections.get(1)!.sessions.size).toBe(0);
    // Folder 2 goes idle: it replaces folder 1's index.
    leaveSelection(state, 'c');
    expect([...state.selections.keys()].sort()).toEqual([2, 3]);
    // Too big to keep (and folder 2's stays).
    leaveSelection(state, 'd');
    expect([...state.selections.keys()]).toEqual([2]);
    expect(state.selectedBy.size).toBe(0);
  });
});

describe('an idle index over a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await provision(server, 'idle.test', ['ida']);
    for (const n of [1, 2]) await deliver(server, ['ida@idle.test'], message(`first ${n}`));
  });
  afterAll(async () => server.destroy());

  it('shows the next SELECT every change made while nobody had the folder selected', async () => {
    const a = await RawImap.open(server, 'ida@idle.test');
    expect(await a.run('SELECT INBOX')).toMatch(/\* 2 EXISTS/);
    await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.run('LOGOUT');

    // While INBOX is idle: a delivery, an APPEND and a COPY into it, a flag change through another folder's MOVE.
    await deliver(server, ['ida@idle.test'], message('delivered while idle'));
    const b = await RawImap.open(server, 'ida@idle.test');
    await b.run('CREATE Side');
    const appended = message('appended while idle');
    expect(await b.run(`APPEND INBOX (\\Flagged) {${appended.length}+}\r\n${appended}`)).toMatch(/ OK /);
    const side = message('moved in while idle');
    await b.run(`APPEND Side {${side.length}+}\r\n${side}`);
    await b.run('SELECT Side');
    expect(await b.run('MOVE 1 INBOX')).toMatch(/ OK /);
    await b.run('LOGOUT');

    const c = await RawImap.open(server, 'ida@idle.test');
    expect(await c.run('SELECT INBOX')).toMatch(/\* 5 EXISTS/);
    const fetched = await c.run('FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(fetched.match(/Subject: [^\r]*/g)).toEqual([
      'Subject: first 1', 'Subject: first 2', 'Subject: delivered while idle', 'Subject: appended while idle', 'Subject: moved in while idle',
    ]);
    expect(fetched).toMatch(/\* 1 FETCH \(FLAGS \(\\Deleted\)/);
    expect(fetched).toMatch(/\* 4 FETCH \(FLAGS \([^)]*\\Flagged/);
    expect(await c.run('EXPUNGE')).toMatch(/\* 1 EXPUNGE/);
    c.close();
  });
});
