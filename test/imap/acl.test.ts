// IMAP ACL (RFC 4314) with shared folders between users of one domain, over raw
// sockets so every response is checked as written: the five commands and their errors,
// the shared namespace, the rights matrix (l, r, s, w, i, t, e, k, x, a) on a folder
// alice shares with bob and carol, and a right revoked while a session has the folder open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startTestServer, waitFor, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

let server: TestServer;
const alice = 'alice@acl.test';
const bob = 'bob@acl.test';
const carol = 'carol@acl.test';

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'acl.test', ['alice', 'bob', 'carol']);
  await provision(server, 'other.test', ['eve']);
});

afterAll(async () => server.destroy());

async function session(user: string): Promise<RawImap> {
  return RawImap.open(server, user);
}

/** Bob's LIST of the shared namespace, as folder names. */
async function sharedList(client: RawImap): Promise<string[]> {
  const out = await client.run('LIST "" "shared/*"');
  return [...out.matchAll(/^\* LIST \(([^)]*)\) "\/" "?([^"\r\n]*)"?\r$/gm)].filter((m) => !/\\Noselect|\\NonExistent/.test(m[1]!)).map((m) => m[2]!);
}

describe('ACL commands', () => {
  it('advertises ACL and RIGHTS=texk and lists the shared namespace', async () => {
    const a = await session(alice);
    expect(await a.run('CAPABILITY')).toMatch(/^\* CAPABILITY .* ACL RIGHTS=texk/m);
    expect(await a.run('NAMESPACE')).toContain('* NAMESPACE (("" "/")) NIL (("shared/" "/"))');
    a.close();
  });

  it('sets, reads, modifies and deletes entries with RFC 4314 syntax', async () => {
    const a = await session(alice);
    await a.run('CREATE Projects');
    expect(await a.run('MYRIGHTS Projects')).toContain('* MYRIGHTS "Projects" "lrswipkxteacd"');
    expect(await a.run(`SETACL Projects ${bob} lr`)).toMatch(/OK SETACL completed/);
    expect(await a.run(`SETACL Projects ${bob} +wi`)).toMatch(/OK/);
    expect(await a.run(`SETACL Projects anyone l`)).toMatch(/OK/);
    expect(await a.run('GETACL Projects')).toContain(`* ACL "Projects" "${alice}" "lrswipkxteacd" "anyone" "l" "${bob}" "lrwi"`);
    expect(await a.run(`SETACL Projects ${bob} -w`)).toMatch(/OK/);
    // Obsolete c and d: c grants k and x, d grants e, t and x (RFC 4314 §2.1.1); reported back with c/d.
    expect(await a.run(`SETACL Projects ${carol} cd`)).toMatch(/OK/);
    expect(await a.run('GETACL Projects')).toContain(`"${bob}" "lri" "${carol}" "kxtecd"`);
    expect(await a.run(`LISTRIGHTS Projects ${bob}`)).toContain(`* LISTRIGHTS "Projects" "${bob}" "" "l" "r" "s" "w" "i" "p" "k" "x" "t" "e" "a" "c" "d"`);
    expect(await a.run(`LISTRIGHTS Projects ${alice}`)).toContain(`* LISTRIGHTS "Projects" "${alice}" "lrswipkxteacd"`);
    expect(await a.run(`DELETEACL Projects ${carol}`)).toMatch(/OK DELETEACL completed/);
    expect(await a.run(`SETACL Projects anyone ""`)).toMatch(/OK/); // empty rights remove the entry
    expect(await a.run('GETACL Projects')).toContain(`* ACL "Projects" "${alice}" "lrswipkxteacd" "${bob}" "lri"\r\n`);
    a.close();
  });

  it('refuses identifiers outside the domain, unknown users, bad rights and bad syntax', async () => {
    const a = await session(alice);
    await a.run('CREATE Private');
    expect(await a.run('SETACL Private eve@other.test lr')).toMatch(/NO \[CANNOT\] only users of acl\.test/);
    expect(await a.run('SETACL Private nobody@acl.test lr')).toMatch(/NO \[CANNOT\] no user/);
    expect(await a.run(`SETACL Private ${alice} lr`)).toMatch(/NO \[CANNOT\]/);
    expect(await a.run(`SETACL Private -${bob} w`)).toMatch(/NO \[CANNOT\] Negative rights/);
    expect(await a.run(`SETACL Private ${bob} lrz`)).toMatch(/BAD SETACL: unknown right "z"/);
    expect(await a.run(`SETACL Private ${bob}`)).toMatch(/BAD/);
    expect(await a.run('GETACL')).toMatch(/BAD/);
    expect(await a.run('MYRIGHTS Private extra')).toMatch(/BAD/);
    expect(await a.run(`SETACL Nowhere ${bob} lr`)).toMatch(/NO \[NONEXISTENT\]/);
    expect(await a.run('GETACL Nowhere')).toMatch(/NO \[NONEXISTENT\]/);
    expect(await a.run('GETACL Private')).toContain(`* ACL "Private" "${alice}" "lrswipkxteacd"\r\n`);
    // Hostile names and identifiers: answered, never a crash.
    const long = `${'x'.repeat(290)}@acl.test`;
    expect(await a.run(`SETACL Private {${long.length}+}\r\n${long} lr`)).toMatch(/NO \[CANNOT\]/);
    expect(await a.run('SETACL Private "bob\\@acl.test" lr')).toMatch(/BAD/);
    expect(await a.run('SETACL Private "bob acl.test" lr')).toMatch(/NO \[CANNOT\]/);
    expect(await a.run('MYRIGHTS shared/')).toMatch(/NO \[NONEXISTENT\]/);
    expect(await a.run('MYRIGHTS shared/nobody@acl.test/INBOX')).toMatch(/NO \[NONEXISTENT\]/);
    expect(await a.run('SELECT shared/@acl.test/INBOX')).toMatch(/NO \[NONEXISTENT\]/);
    expect(await a.run('SELECT shared/eve@other.test/INBOX')).toMatch(/NO \[NONEXISTENT\]/);
    expect(await a.run(`SELECT shared/${alice}/INBOX`)).toMatch(/NO \[NONEXISTENT\]/); // oneself: not in the shared namespace
    expect(await a.run('CREATE shared/new')).toMatch(/NO \[NOPERM\]/);
    expect(await a.run('NOOP')).toMatch(/OK/);
    const fresh = await RawImap.open(server);
    expect(await fresh.run('GETACL INBOX')).toMatch(/BAD/); // not authenticated
    fresh.close();
    a.close();
  });
});

describe('shared folders obey the rights', () => {
  it('l shows the folder, r selects it; without them it does not exist', async () => {
    const a = await session(alice);
    const b = await session(bob);
    await a.run('CREATE Team');
    await a.run('CREATE Team/Sub');
    await a.run('CREATE Secret');
    expect(await sharedList(b)).not.toContain(`shared/${alice}/Team`);
    await a.run(`SETACL Team ${bob} l`);
    await waitFor(async () => (await sharedList(b)).includes(`shared/${alice}/Team`), 5000, 'Team listed for bob');
    expect(await sharedList(b)).not.toContain(`shared/${alice}/Team/Sub`);
    // Listed with l but not readable: LIST-STATUS leaves its counters out.
    expect(await b.run('LIST "" "shared/*" RETURN (STATUS (MESSAGES))')).not.toContain(`* STATUS "shared/${alice}/Team"`);
    expect(await sharedList(b)).not.toContain(`shared/${alice}/Secret`);
    expect(await b.run(`SELECT shared/${alice}/Team`)).toMatch(/NO \[NOPERM\]/);
    expect(await b.run(`STATUS shared/${alice}/Team (MESSAGES)`)).toMatch(/NO \[NOPERM\]/);
    expect(await b.run(`SELECT shared/${alice}/Secret`)).toMatch(/NO \[NONEXISTENT\]/);
    expect(await b.run(`MYRIGHTS shared/${alice}/Team`)).toContain(`* MYRIGHTS "shared/${alice}/Team" "l"`);
    expect(await b.run(`GETACL shared/${alice}/Team`)).toMatch(/NO \[NOPERM\]/);
    await a.run(`SETACL Team ${bob} lr`);
    await a.run(`APPEND Team {${message('one').length}}\r\n${message('one')}`.replace(/\{\d+\}\r\n/, `{${message('one').length}+}\r\n`));
    const selected = await b.run(`SELECT shared/${alice}/Team`);
    expect(selected).toContain('* 1 EXISTS');
    // l and r only: nothing to change, so read-only.
    expect(selected).toMatch(/OK \[READ-ONLY\] SELECT completed/);
    expect(await b.run(`STATUS shared/${alice}/Team (MESSAGES UNSEEN)`)).toContain(`* STATUS "shared/${alice}/Team" (MESSAGES 1 UNSEEN 1)`);
    expect(await b.run('LIST "" "shared/*" RETURN (STATUS (MESSAGES))')).toContain(`* STATUS "shared/${alice}/Team" (MESSAGES 1)`);
    a.close();
    b.close();
  });

  it('s for \\Seen, t for \\Deleted, w for other flags, e for EXPUNGE, i for APPEND and COPY', async () => {
    const a = await session(alice);
    const b = await session(bob);
    await a.run('CREATE Desk');
    const raw = message('desk');
    for (let i = 0; i < 3; i++) await a.run(`APPEND Desk {${raw.length}+}\r\n${raw}`);
    await a.run(`SETACL Desk ${bob} lrw`);
    const desk = await b.run(`SELECT shared/${alice}/Desk`);
    expect(desk).toMatch(/READ-WRITE/);
    // PERMANENTFLAGS lists only what w allows: no \Seen (s), no \Deleted (t).
    expect(desk).toContain('[PERMANENTFLAGS (\\Answered \\Flagged \\Draft \\*)]');
    // No s: FETCH BODY[] does not store \Seen; STORE \Seen is ignored, $Work (w) is stored.
    await b.run('FETCH 1 BODY[]');
    await b.run('STORE 1 +FLAGS (\\Seen $Work \\Deleted)');
    expect(await b.run('FETCH 1 FLAGS')).toMatch(/\* 1 FETCH \(FLAGS \(\$Work( \\Recent)?\)\)/);
    expect(await a.run('STATUS Desk (UNSEEN)')).toContain('(UNSEEN 3)');
    // Replacing flags keeps those the user may not change (\Seen set by alice stays).
    await a.run('SELECT Desk');
    await a.run('STORE 2 +FLAGS (\\Seen)');
    await b.run('STORE 2 FLAGS ($Other)');
    expect(await a.run('FETCH 2 FLAGS')).toMatch(/FLAGS \((\\Seen \$Other|\$Other \\Seen)\)/);
    // No e: EXPUNGE refused; no i: APPEND and COPY into refused.
    expect(await b.run('EXPUNGE')).toMatch(/NO \[NOPERM\]/);
    expect(await b.run(`APPEND shared/${alice}/Desk {${raw.length}+}\r\n${raw}`)).toMatch(/NO \[NOPERM\]/);
    expect(await b.run(`COPY 1 shared/${alice}/Desk`)).toMatch(/NO \[NOPERM\]/);
    await a.run(`SETACL Desk ${bob} +stei`);
    await b.run('NOOP');
    expect(await b.run('STORE 3 +FLAGS (\\Seen \\Deleted)')).toMatch(/FLAGS \(\\Seen \\Deleted/);
    expect(await b.run(`COPY 1 shared/${alice}/Desk`)).toMatch(/OK \[COPYUID \d+ 1 4\]/);
    const appended = await b.run(`APPEND shared/${alice}/Desk (\\Flagged) {${raw.length}+}\r\n${raw}`);
    expect(appended).toMatch(/OK \[APPENDUID \d+ 5\]/);
    expect(await b.run('EXPUNGE')).toMatch(/\* 3 EXPUNGE[\s\S]*OK/);
    expect(await a.run('STATUS Desk (MESSAGES)')).toContain('(MESSAGES 4)');
    // COPY between two users' mailboxes: read, appended with its flags, COPYUID as usual.
    expect(await b.run('UID COPY 1 INBOX')).toMatch(/OK \[COPYUID \d+ 1 1\]/);
    expect(await b.run('STATUS INBOX (MESSAGES)')).toContain('(MESSAGES 1)');
    // MOVE from bob's own INBOX into alice's folder (i there): the source is expunged.
    await b.run('SELECT INBOX');
    expect(await b.run(`MOVE 1 shared/${alice}/Desk`)).toMatch(/\* OK \[COPYUID \d+ 1 6\][\s\S]*\* 1 EXPUNGE[\s\S]*OK/);
    expect(await a.run('STATUS Desk (MESSAGES)')).toContain('(MESSAGES 5)');
    expect(await b.run('STATUS INBOX (MESSAGES)')).toContain('(MESSAGES 0)');
    a.close();
    b.close();
  });

  it('APPEND without w, s or t drops those flags; without i a missing right is NOPERM', async () => {
    const a = await session(alice);
    const b = await session(bob);
    await a.run('CREATE Drop');
    await a.run(`SETACL Drop ${bob} lri`);
    const raw = message('dropped');
    expect(await b.run(`APPEND shared/${alice}/Drop (\\Seen \\Flagged \\Deleted) {${raw.length}+}\r\n${raw}`)).toMatch(/OK \[APPENDUID \d+ 1\]/);
    await a.run('SELECT Drop');
    expect(await a.run('FETCH 1 FLAGS')).toMatch(/\* 1 FETCH \(FLAGS \((\\Recent)?\)\)/);
    a.close();
    b.close();
  });

  it('k creates inside, x deletes and renames, a lets another user administer', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const c = await session(carol);
    await a.run('CREATE Shared');
    await a.run(`SETACL Shared ${bob} lr`);
    expect(await b.run(`CREATE shared/${alice}/Shared/New`)).toMatch(/NO \[NOPERM\]/);
    expect(await b.run(`CREATE shared/${alice}/TopLevel`)).toMatch(/NO \[NOPERM\]/);
    await a.run(`SETACL Shared ${bob} +k`);
    expect(await b.run(`CREATE shared/${alice}/Shared/New`)).toMatch(/OK/);
    // The new folder starts with its parent's ACL.
    expect(await a.run('GETACL Shared/New')).toContain(`"${bob}" "lrkc"`);
    expect(await b.run(`DELETE shared/${alice}/Shared/New`)).toMatch(/NO \[NOPERM\]/);
    await a.run(`SETACL Shared/New ${bob} +x`);
    expect(await b.run(`RENAME shared/${alice}/Shared/New shared/${alice}/Shared/Renamed`)).toMatch(/OK/);
    expect(await a.run('LIST "" "Shared/*"')).toContain('Shared/Renamed');
    expect(await b.run(`RENAME shared/${alice}/Shared/Renamed Mine`)).toMatch(/NO \[CANNOT\]/);
    expect(await b.run(`DELETE shared/${alice}/Shared/Renamed`)).toMatch(/OK/);
    // a: bob may share alice's folder with carol.
    expect(await b.run(`SETACL shared/${alice}/Shared ${carol} lr`)).toMatch(/NO \[NOPERM\]/);
    await a.run(`SETACL Shared ${bob} +a`);
    expect(await b.run(`SETACL shared/${alice}/Shared ${carol} lr`)).toMatch(/OK/);
    expect(await b.run(`GETACL shared/${alice}/Shared`)).toContain(`"${carol}" "lr"`);
    await waitFor(async () => (await sharedList(c)).includes(`shared/${alice}/Shared`), 5000, 'Shared listed for carol');
    a.close();
    b.close();
    c.close();
  });

  it('anyone shares with every user of the domain, never with another domain', async () => {
    const a = await session(alice);
    const c = await session(carol);
    const e = await session('eve@other.test');
    await a.run('CREATE Announcements');
    await a.run('SETACL Announcements anyone lr');
    await waitFor(async () => (await sharedList(c)).includes(`shared/${alice}/Announcements`), 5000, 'Announcements for carol');
    expect(await sharedList(e)).toEqual([]);
    expect(await e.run(`SELECT shared/${alice}/Announcements`)).toMatch(/NO \[NONEXISTENT\]/);
    a.close();
    c.close();
    e.close();
  });

  it('a revoked right applies to the next command of an open session', async () => {
    const a = await session(alice);
    const b = await session(bob);
    await a.run('CREATE Revoke');
    const raw = message('revoke me');
    await a.run(`APPEND Revoke {${raw.length}+}\r\n${raw}`);
    await a.run(`SETACL Revoke ${bob} lrsw`);
    await b.run(`SELECT shared/${alice}/Revoke`);
    expect(await b.run('FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]')).toContain('Subject: revoke me');
    expect(await b.run('STORE 1 +FLAGS ($One)')).toMatch(/OK/);
    await a.run(`SETACL Revoke ${bob} -w`);
    await b.run('STORE 1 +FLAGS ($Two)');
    expect(await a.run('SELECT Revoke')).toBeTruthy();
    expect(await a.run('FETCH 1 FLAGS')).not.toContain('$Two');
    await a.run(`DELETEACL Revoke ${bob}`);
    expect(await b.run('FETCH 1 BODY.PEEK[]')).toMatch(/NO \[NOPERM\]/);
    expect(await b.run('FETCH 1 ENVELOPE')).toMatch(/NO \[NOPERM\]/);
    expect(await b.run('SEARCH TEXT revoke')).toMatch(/NO \[NOPERM\]/);
    expect(await b.run('SEARCH ALL')).toMatch(/^\* SEARCH 1\r$/m); // the open view's UIDs and flags still answer
    expect(await b.run(`SELECT shared/${alice}/Revoke`)).toMatch(/NO \[NONEXISTENT\]/);
    await waitFor(async () => !(await sharedList(b)).includes(`shared/${alice}/Revoke`), 5000, 'Revoke gone from the list');
    a.close();
    b.close();
  });

  it('IDLE on a shared folder sees mail delivered to it, flags changed by the owner', async () => {
    const a = await session(alice);
    const b = await session(bob);
    await a.run(`SETACL INBOX ${bob} lrs`);
    await b.run(`SELECT shared/${alice}/INBOX`);
    b.line.send('i1 IDLE\r\n');
    await b.line.expect(/\+ [^\r\n]*\r\n/);
    await deliver(server, [alice], message('for the team'));
    await b.line.expect(/\* 1 EXISTS\r\n/);
    b.line.send('DONE\r\n');
    await b.line.expect(/i1 OK[^\r\n]*\r\n/);
    expect(await b.run('FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).toContain('Subject: for the team');
    await b.run('STORE 1 +FLAGS (\\Seen)');
    // Shared \Seen: the owner sees the reader's \Seen.
    expect(await a.run('STATUS INBOX (UNSEEN)')).toContain('(UNSEEN 0)');
    a.close();
    b.close();
  });

  it('subscriptions of shared folders are the reader\'s own', async () => {
    const a = await session(alice);
    const b = await session(bob);
    await a.run('CREATE Subs');
    await a.run(`SETACL Subs ${bob} lr`);
    await waitFor(async () => (await sharedList(b)).includes(`shared/${alice}/Subs`), 5000, 'Subs listed');
    expect(await b.run(`SUBSCRIBE shared/${alice}/Subs`)).toMatch(/OK/);
    expect(await b.run('LSUB "" "shared/*"')).toContain(`shared/${alice}/Subs`);
    expect(await b.run('LIST (SUBSCRIBED) "" "shared/*"')).toMatch(new RegExp(`\\* LIST \\(\\\\HasNoChildren \\\\Subscribed\\) "/" "?shared/${alice}/Subs`));
    expect(await a.run('LSUB "" "Subs"')).not.toContain('* LSUB');
    a.close();
    b.close();
  });

  it('a user removed and added again under the same address does not inherit the old rights', async () => {
    await server.admin('POST', '/v1/users/import', { users: [{ address: 'dave@acl.test', password: 'pw' }] });
    const a = await session(alice);
    await a.run('CREATE ForDave');
    await a.run('SETACL ForDave dave@acl.test lr');
    const d = await session('dave@acl.test');
    await waitFor(async () => (await sharedList(d)).includes(`shared/${alice}/ForDave`), 5000, 'ForDave listed');
    d.close();
    await server.admin('DELETE', '/v1/users/dave@acl.test');
    await server.admin('POST', '/v1/users/import', { users: [{ address: 'dave@acl.test', password: 'pw' }] });
    const again = await session('dave@acl.test');
    expect(await again.run(`SELECT shared/${alice}/ForDave`)).toMatch(/NO \[NONEXISTENT\]/);
    expect(await sharedList(again)).not.toContain(`shared/${alice}/ForDave`);
    again.close();
    a.close();
  });

  it('a rename keeps the shares: the grantee keeps their rights under the new address, the owner\'s folders follow theirs', async () => {
    await server.admin('POST', '/v1/users/import', { users: [{ address: 'frank@acl.test', password: 'pw' }, { address: 'gina@acl.test', password: 'pw' }] });
    const g = await session('gina@acl.test');
    await g.run('CREATE Plans');
    await g.run('SETACL Plans frank@acl.test lrw');
    g.close();
    // The grantee is renamed: same rights, listed and named under the new address.
    await server.admin('POST', '/v1/users/frank@acl.test/rename', { to: 'franz@acl.test' });
    const f = await session('franz@acl.test');
    await waitFor(async () => (await sharedList(f)).includes('shared/gina@acl.test/Plans'), 5000, 'Plans listed for the renamed grantee');
    expect(await f.run('MYRIGHTS shared/gina@acl.test/Plans')).toContain('"lrw"');
    const owner = await session('gina@acl.test');
    expect(await owner.run('GETACL Plans')).toContain('"franz@acl.test" "lrw"');
    expect(await owner.run('GETACL Plans')).not.toContain('frank@acl.test');
    owner.close();
    // The owner is renamed: the folder shows under the owner's new address.
    await server.admin('POST', '/v1/users/gina@acl.test/rename', { to: 'regina@acl.test' });
    await waitFor(async () => (await sharedList(f)).includes('shared/regina@acl.test/Plans'), 5000, 'Plans listed under the renamed owner');
    expect(await sharedList(f)).not.toContain('shared/gina@acl.test/Plans');
    expect(await f.run('SELECT shared/regina@acl.test/Plans')).toMatch(/OK \[READ-WRITE\]/);
    f.close();
  });

  it('a COPY out of a shared folder that fails half way leaves the destination as it was; MOVE out needs t and e', async () => {
    await server.admin('POST', '/v1/users/import', { users: [{ address: 'erin@acl.test', password: 'pw' }] });
    await server.admin('PUT', '/v1/users/erin@acl.test/quota', { quota: 3000 });
    const a = await session(alice);
    const e = await session('erin@acl.test');
    await a.run('CREATE Big');
    const big = message('big', `${'x'.repeat(76)}\r\n`.repeat(25));
    for (let i = 0; i < 2; i++) await a.run(`APPEND Big {${big.length}+}\r\n${big}`);
    await a.run('SETACL Big erin@acl.test lr');
    await e.run(`SELECT shared/${alice}/Big`);
    // Two messages of ~2 KB against a 3,000-byte quota: the second append fails, the first is taken back.
    expect(await e.run('COPY 1:2 INBOX')).toMatch(/NO \[OVERQUOTA\]/);
    expect(await e.run('STATUS INBOX (MESSAGES)')).toContain('(MESSAGES 0)');
    expect(await e.run('MOVE 1 INBOX')).toMatch(/NO/);
    await a.run('SETACL Big erin@acl.test +te');
    await e.run(`SELECT shared/${alice}/Big`);
    expect(await e.run('MOVE 1 INBOX')).toMatch(/\* 1 EXPUNGE[\s\S]*OK/);
    expect(await e.run('STATUS INBOX (MESSAGES)')).toContain('(MESSAGES 1)');
    expect(await a.run('STATUS Big (MESSAGES)')).toContain('(MESSAGES 1)');
    a.close();
    e.close();
  });
});
