// The Date header's moment for SORT (DATE): zones, obsolete forms, and what is not a date.
import { describe, expect, it } from 'vitest';
import { sentDateMs } from '../../src/mime/sent-date.js';

describe('sent date', () => {
  it('reads RFC 5322 date-times in UTC', () => {
    expect(sentDateMs('Fri, 02 Jan 2026 10:00:00 +0000')).toBe(Date.UTC(2026, 0, 2, 10));
    expect(sentDateMs('2 Jan 2026 12:30 +0230')).toBe(Date.UTC(2026, 0, 2, 10));
    expect(sentDateMs('Sat, 24 Mar 07 23:00:00 EST (comment)')).toBe(Date.UTC(2007, 2, 25, 4));
    expect(sentDateMs('1 Jan 99 00:00:00 GMT')).toBe(Date.UTC(1999, 0, 1));
  });

  it('answers null for what is not a date-time', () => {
    for (const value of ['', 'yesterday', '32 Jan 2026 10:00:00 +0000', '1 Foo 2026 10:00 +0000', '1 Jan 2026', '1 Jan 2026 25:00 +0000']) {
      expect(sentDateMs(value)).toBeNull();
    }
  });
});
