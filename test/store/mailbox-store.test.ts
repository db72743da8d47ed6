// Mailbox store rules on their own: folder names (INBOX case, hierarchy, forbidden
// characters), flags as stored (\Recent never, system flags canonical), and
// tombstones answering "expunged since" in UID order from a real LevelDB.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/store/database.js';
import {
  MailboxStore, ancestorNames, applyFlagOperation, canonicalFolderName, folderNameProblem, sameFlags, storedFlags,
} from '../../src/store/mailbox-store.js';
import { tempDir } from '../support/server.js';

describe('folder names', () => {
  it('spells INBOX in capitals whatever the client sent, also as a parent', () => {
    expect(canonicalFolderName('inbox')).toBe('INBOX');
    expect(canonicalFolderName('InBoX/Sub')).toBe('INBOX/Sub');
    expect(canonicalFolderName('Inboxes')).toBe('Inboxes');
  });

  it('accepts ordinary and UTF-8 names, refuses empty levels, wildcards and over-long levels', () => {
    expect(folderNameProblem('Work/2024/Å')).toBeNull();
    expect(folderNameProblem('')).toMatch(/empty/);
    expect(folderNameProblem('a//b')).toMatch(/empty hierarchy/);
    expect(folderNameProblem('a*')).toMatch(/\*/);
    expect(folderNameProblem('100%')).toMatch(/%/);
    expect(folderNameProblem('a\tb')).toMatch(/control/);
    expect(folderNameProblem('é'.repeat(128))).toMatch(/255/);
    expect(folderNameProblem('e'.repeat(255))).toBeNull();
  });

  it('lists ancestors outermost first', () => {
    expect(ancestorNames('a/b/c')).toEqual(['a', 'a/b']);
    expect(ancestorNames('a')).toEqual([]);
  });
});

describe('flags', () => {
  it('drops \\Recent and repeats, canonicalises system flags, keeps keywords as given', () => {
    expect(storedFlags(['\\seen', '\\RECENT', 'MyKey', 'mykey', '\\Seen', '$Junk'])).toEqual(['\\Seen', 'MyKey', '$Junk']);
  });

  it('applies replace, add and remove with case-insensitive matching', () => {
    expect(applyFlagOperation(['\\Seen', 'Work'], 'add', ['work', '\\Flagged'])).toEqual(['\\Seen', 'Work', '\\Flagged']);
    expect(applyFlagOperation(['\\Seen', 'Work'], 'remove', ['WORK'])).toEqual(['\\Seen']);
    expect(applyFlagOperation(['\\Seen'], 'replace', [])).toEqual([]);
    expect(sameFlags(['a', '\\Seen'], ['\\Seen', 'A'])).toBe(true);
    expect(sameFlags(['a'], ['a', 'b'])).toBe(false);
  });
});

describe('tombstones', () => {
  it('answers UIDs expunged after a modseq, ascending and once each, per folder', async () => {
    const dir = tempDir('ternmail-tomb-');
    const db = new Database(dir);
    await db.open();
    try {
      const store = new MailboxStore(db);
      await db.commit([
        store.tombstoneOp('m', 1, 5, 30), store.tombstoneOp('m', 1, 5, 4), store.tombstoneOp('m', 1, 9, 12),
        store.tombstoneOp('m', 1, 12, 4), store.tombstoneOp('m', 2, 50, 7), store.tombstoneOp('m', 10, 50, 8),
      ]);
      expect(await store.vanishedSince('m', 1, 0)).toEqual([4, 12, 30]);
      expect(await store.vanishedSince('m', 1, 5)).toEqual([4, 12]);
      expect(await store.vanishedSince('m', 1, 12)).toEqual([]);
      expect(await store.vanishedSince('m', 2, 49)).toEqual([7]);
      await db.commit(await store.folderContentDeleteOps('m', 1));
      expect(await store.vanishedSince('m', 1, 0)).toEqual([]);
      expect(await store.vanishedSince('m', 10, 0)).toEqual([8]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
