// The SMTP AUTH policy: passwords in the clear only over TLS, from loopback, or when
// the operator allows it (the sockets of the other tests are all loopback).
import { describe, expect, it } from 'vitest';
import { plaintextAuthAllowed } from '../../src/smtp/listener.js';

describe('plaintextAuthAllowed', () => {
  it('allows loopback clients and TLS sessions', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(plaintextAuthAllowed(false, address, false)).toBe(true);
    expect(plaintextAuthAllowed(true, '203.0.113.9', false)).toBe(true);
  });

  it('refuses other clients without TLS unless the operator allows plaintext', () => {
    for (const address of ['203.0.113.9', '10.1.2.3', '::ffff:198.51.100.7', '2001:db8::1']) {
      expect(plaintextAuthAllowed(false, address, false)).toBe(false);
      expect(plaintextAuthAllowed(false, address, true)).toBe(true);
    }
  });
});
