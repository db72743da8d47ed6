// The quota rule, in one place for every path that adds to a mailbox: SMTP RCPT (452
// 4.2.2 before the size is known), local delivery, IMAP APPEND and COPY. A quota is a
// number of bytes for the whole mailbox; 0 means no limit. Adding nothing (a MOVE, an
// empty COPY) never exceeds it, so a user over quota can still tidy up.

/** Would adding `addingBytes` to a mailbox holding `usedBytes` go over `quotaBytes`? */
export function exceedsQuota(usedBytes: number, addingBytes: number, quotaBytes: number): boolean {
  if (quotaBytes <= 0) return false;
  if (addingBytes <= 0) return false;
  return usedBytes + addingBytes > quotaBytes;
}

/** At or over the quota: not even one more byte fits (what SMTP checks before it knows the size). */
export function quotaFull(usedBytes: number, quotaBytes: number): boolean {
  return exceedsQuota(usedBytes, 1, quotaBytes);
}
