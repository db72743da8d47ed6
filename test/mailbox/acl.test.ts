// The ACL rights model (src/mailbox/acl.ts), table-driven from RFC 4314: rights parsing
// with the obsolete c and d, modifiers, reporting, whose rights count, and which flag
// changes the rights allow.
import { describe, expect, it } from 'vitest';
import {
  aclEntry, flagRights, modifiedRights, parseRights, permittedFlags, reportedRights, restrictFlagChange, rightsOf, visibleAcl,
} from '../../src/mailbox/acl.js';

describe('rights', () => {
  it.each([
    ['lr', 'lr'], ['rl', 'lr'], ['lrswipkxtea', 'lrswipkxtea'], ['c', 'kx'], ['d', 'xte'], ['lrcd', 'lrkxte'], ['', ''], ['l1r2', 'lr'],
  ])('parses %j as %j', (text, rights) => {
    expect(parseRights(text)).toEqual({ ok: true, rights });
  });

  it('refuses an unknown right', () => {
    expect(parseRights('lrz')).toEqual({ ok: false, error: 'unknown right "z"' });
  });

  it.each([
    ['lr', '+', 'wi', 'lrwi'], ['lrwi', '-', 'w', 'lri'], ['lrwi', '', 'l', 'l'], ['', '-', 'a', ''],
  ] as const)('%j %s %j is %j', (current, modifier, rights, expected) => {
    expect(modifiedRights(current, modifier, rights)).toBe(expected);
  });

  it('reports c with k and d with e or t', () => {
    expect(reportedRights('lr')).toBe('lr');
    expect(reportedRights('lrk')).toBe('lrkc');
    expect(reportedRights('lrt')).toBe('lrtd');
    expect(reportedRights('lrswipkxtea')).toBe('lrswipkxteacd');
  });

  it('gives the owner every right, a user their entry plus anyone\'s, and nothing to a later user of the address', () => {
    const acl = { 'bob@d.test': aclEntry('lr', 'mbx-bob'), anyone: 'l', 'carol@d.test': aclEntry('lrw', 'mbx-old') };
    expect(rightsOf(acl, 'alice@d.test', 'alice@d.test', 'mbx-alice')).toBe('lrswipkxtea');
    expect(rightsOf(acl, 'alice@d.test', 'bob@d.test', 'mbx-bob')).toBe('lr');
    expect(rightsOf(acl, 'alice@d.test', 'carol@d.test', 'mbx-new')).toBe('l');
    expect(rightsOf(acl, 'alice@d.test', 'dave@d.test', 'mbx-dave')).toBe('l');
    expect(rightsOf(undefined, 'alice@d.test', 'bob@d.test', 'mbx-bob')).toBe('');
    expect(visibleAcl(acl)).toEqual({ 'bob@d.test': 'lr', anyone: 'l', 'carol@d.test': 'lrw' });
  });
});

describe('flag changes', () => {
  it('needs s for \\Seen, t for \\Deleted and w for the others', () => {
    expect(permittedFlags(['\\Seen', '\\Deleted', '\\Flagged', '$Work'], flagRights('lrs'))).toEqual(['\\Seen']);
    expect(permittedFlags(['\\Seen', '\\Deleted', '\\Flagged'], flagRights('lrt'))).toEqual(['\\Deleted']);
    expect(permittedFlags(['\\seen', '\\Flagged', '$Work'], flagRights('lrw'))).toEqual(['\\Flagged', '$Work']);
  });

  it('keeps the flags the user may not change as they were', () => {
    // FLAGS ($New) by a user with w only: \Seen and \Deleted stay, $Old goes.
    expect(restrictFlagChange(['\\Seen', '\\Deleted', '$Old'], ['$New'], flagRights('lrw'))).toEqual(['\\Seen', '\\Deleted', '$New']);
    // +FLAGS (\Seen $X) by a user with s only: $X is not added.
    expect(restrictFlagChange(['$Old'], ['$Old', '\\Seen', '$X'], flagRights('lrs'))).toEqual(['$Old', '\\Seen']);
  });
});
