// The one quota rule of SMTP, delivery, APPEND and COPY: 0 is no limit, adding nothing
// never exceeds, and a mailbox at its quota is full.
import { describe, expect, it } from 'vitest';
import { exceedsQuota, quotaFull } from '../../src/mailbox/quota.js';

describe('exceedsQuota', () => {
  it('refuses what would go over the quota and accepts what fits exactly', () => {
    expect(exceedsQuota(900, 101, 1000)).toBe(true);
    expect(exceedsQuota(900, 100, 1000)).toBe(false);
  });

  it('never refuses without a quota, nor when nothing is added', () => {
    expect(exceedsQuota(10_000, 5000, 0)).toBe(false);
    expect(exceedsQuota(2000, 0, 1000)).toBe(false);
  });
});

describe('quotaFull', () => {
  it('is true at or over the quota, and never without one', () => {
    expect(quotaFull(1000, 1000)).toBe(true);
    expect(quotaFull(1001, 1000)).toBe(true);
    expect(quotaFull(999, 1000)).toBe(false);
    expect(quotaFull(5000, 0)).toBe(false);
  });
});
