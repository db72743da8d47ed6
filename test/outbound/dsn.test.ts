// DSN construction (RFC 3464): a multipart/report with a human part, a
// message/delivery-status part per recipient, and the original headers.
import { describe, expect, it } from 'vitest';
import { buildDsn, headerSection, statusOf } from '../../src/outbound/dsn.js';
import { analyzeMessage } from '../../src/mime/analyze.js';

describe('buildDsn', () => {
  const dsn = buildDsn({
    kind: 'failure', reportingHost: 'mx.example.test', queueId: 'Q1', arrived: Date.UTC(2026, 0, 2, 3, 4, 5), sender: 'ann@example.test',
    recipients: [
      { address: 'x@remote.test', original: 'team@example.test', error: '550 5.1.1 <x@remote.test>: User unknown' },
      { address: 'y@remote.test', original: 'y@remote.test', error: 'connection refused' },
    ],
    originalHeaders: Buffer.from('From: ann@example.test\r\nSubject: lost\r\n\r\n'),
  });
  const text = dsn.toString('latin1');

  it('is a well-formed multipart/report with three parts', () => {
    const structure = analyzeMessage(dsn);
    expect(structure.root.type?.toLowerCase()).toBe('multipart');
    expect(structure.root.subtype?.toLowerCase()).toBe('report');
    expect(structure.root.children.map((p) => `${p.type}/${p.subtype}`.toLowerCase())).toEqual([
      'text/plain', 'message/delivery-status', 'text/rfc822-headers',
    ]);
  });

  it('reports each recipient with its status and diagnostic', () => {
    expect(text).toContain('Final-Recipient: rfc822; x@remote.test\r\nOriginal-Recipient: rfc822; team@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1');
    expect(text).toContain('Final-Recipient: rfc822; y@remote.test\r\nAction: failed\r\nStatus: 5.0.0');
    expect(text).toContain('Reporting-MTA: dns; mx.example.test');
    expect(text).toContain('Arrival-Date: Fri, 02 Jan 2026 03:04:05 +0000');
    expect(text).toMatch(/\r\n\r\nFrom: ann@example\.test\r\nSubject: lost\r\n/);
  });

  it('maps statuses for delay warnings to 4.x.x', () => {
    expect(statusOf('450 4.2.0 try later', 'delay')).toBe('4.2.0');
    expect(statusOf('550 5.1.1 nope', 'delay')).toBe('4.1.1');
    expect(statusOf('no code', 'failure')).toBe('5.0.0');
  });

  it('cuts the header section at the first empty line', () => {
    expect(headerSection(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody')).toString()).toBe('A: 1\r\nB: 2\r\n');
  });
});
