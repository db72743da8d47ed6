// A folder's ACL is part of its stored record: after a restart the grantee still sees
// the shared folder with the same rights, and the owner's GETACL reads the same entries.
// (The record is encoded field by field; this guards the ACL against being left out.)
import { afterAll, expect, it } from 'vitest';
import { provision, startTestServer, tempDir, waitFor, type TestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';

const dataDir = tempDir();
let server: TestServer | undefined;

afterAll(async () => server?.destroy());

it('keeps every ACL entry across a restart', async () => {
  server = await startTestServer({ data: dataDir }, { keepData: true });
  await provision(server, 'keep.test', ['owner', 'reader']);
  const owner = await RawImap.open(server, 'owner@keep.test');
  await owner.run('CREATE Team');
  await owner.run('SETACL Team reader@keep.test lrsw');
  await owner.run('SETACL Team anyone l');
  const aclLine = (out: string): string | undefined => /^\* ACL .*$/m.exec(out)?.[0];
  const before = aclLine(await owner.run('GETACL Team'));
  expect(before).toContain('"reader@keep.test" "lrsw"');
  owner.close();
  await server.destroy();

  server = await startTestServer({ data: dataDir });
  const again = await RawImap.open(server, 'owner@keep.test');
  expect(aclLine(await again.run('GETACL Team'))).toBe(before);
  again.close();
  const reader = await RawImap.open(server, 'reader@keep.test');
  await waitFor(async () => (await reader.run('LIST "" "shared/*"')).includes('shared/owner@keep.test/Team'), 5000, 'Team listed after the restart');
  expect(await reader.run('MYRIGHTS shared/owner@keep.test/Team')).toContain('"lrsw"');
  reader.close();
});
