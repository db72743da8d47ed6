// Bodies of expunged messages kept for the sessions that still show them (RFC 2180 §4.1.1,
// issue 16), on a real LevelDB: kept while another session has the folder selected, collected
// once every such session released them, and never more than the limit (the longest kept go).
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MailboxStore, newFolder } from '../../src/store/mailbox-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { collectExpunged, releaseHeld, type MailboxDeps, type MailboxState } from '../../src/mailbox/state.js';
import type { FolderEventMessage } from '../../src/mailbox/imap-messages.js';
import { tempDir } from '../support/server.js';

let dir: string;
let db: Database;
let deps: MailboxDeps;

beforeEach(async () => {
  dir = tempDir('ternmail-held-');
  db = new Database(dir);
  await db.open();
  deps = { db, blobs: new BlobStore(db), mailboxes: new MailboxStore(db), log: silentLogger(), testFaults: false };
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A stored body whose last reference has just gone (as after an expunge's commit). */
async function unreferencedBody(text: string): Promise<string> {
  const upload = deps.blobs.beginUpload();
  upload.write(Buffer.from(`Subject: ${text}\r\n\r\n${text}\r\n`));
  const finished = await upload.finish('holder');
  try {
    await db.commit(finished.ops);
  } finally {
    finished.release();
  }
  await db.commit([deps.blobs.unrefOp(finished.sha, 'holder')]);
  return finished.sha;
}

const inbox = newFolder(1, 'INBOX', null);
const listener = {} as Ref<FolderEventMessage>;

function stateWith(sessions: string[]): MailboxState {
  return {
    account: { mailboxId: 'm', nextFolderId: 2, messages: 0, bytes: 0 }, folders: new Map([[1, inbox]]), popSession: null,
    selections: new Map([[1, { messages: new Map(), sessions: new Map(sessions.map((s) => [s, { listener, readOnly: false }])) }]]),
    selectedBy: new Map(sessions.map((s) => [s, 1])), heldBodies: new Map(), parked: null, movedTo: null,
  };
}

async function stored(sha: string): Promise<boolean> {
  return (await deps.blobs.record(sha)) !== undefined;
}

describe('bodies kept for sessions that have not sent the EXPUNGE', () => {
  it('keeps a body while another session has the folder selected, until each such session released it', async () => {
    const state = stateWith(['expunger', 'b', 'c']);
    const sha = await unreferencedBody('one');
    await collectExpunged(state, inbox, [sha], 'expunger', deps);
    expect(await stored(sha)).toBe(true);
    await releaseHeld(state, 'b', [sha], deps);
    expect(await stored(sha)).toBe(true);
    await releaseHeld(state, 'c', null, deps);
    expect(await stored(sha)).toBe(false);
    expect(state.heldBodies.size).toBe(0);
  });

  it('collects at once when no other session has the folder selected', async () => {
    const state = stateWith(['expunger']);
    const sha = await unreferencedBody('two');
    await collectExpunged(state, inbox, [sha], 'expunger', deps);
    expect(await stored(sha)).toBe(false);
  });

  it('does not look up a body another message of a selected folder still shows, nor one held for a session', async () => {
    const state = stateWith(['expunger']);
    const shown = await unreferencedBody('shown');
    const held = await unreferencedBody('held');
    const alone = await unreferencedBody('alone');
    // Another message of the folder has the same body (here its reference is not on disk:
    // were the body looked up, it would be collected).
    state.selections.get(1)!.messages.set(7, { uid: 7, blob: shown, size: 1, flags: [], internalDate: 0, modseq: 1 });
    state.heldBodies.set(held, new Set(['gone-later']));
    await collectExpunged(state, inbox, [shown, held, alone], 'expunger', deps);
    expect(await stored(shown)).toBe(true);
    expect(await stored(held)).toBe(true);
    expect(await stored(alone)).toBe(false);
    await releaseHeld(state, 'gone-later', null, deps);
    expect(await stored(held)).toBe(false);
  });

  it('keeps no more than the limit: the longest kept are collected', async () => {
    const state = stateWith(['expunger', 'silent']);
    const bodies = [await unreferencedBody('a'), await unreferencedBody('b'), await unreferencedBody('c')];
    for (const sha of bodies) await collectExpunged(state, inbox, [sha], 'expunger', deps, 2);
    expect([...state.heldBodies.keys()]).toEqual(bodies.slice(1));
    expect(await stored(bodies[0]!)).toBe(false);
    expect(await stored(bodies[1]!)).toBe(true);
    expect(await stored(bodies[2]!)).toBe(true);
  });
});
