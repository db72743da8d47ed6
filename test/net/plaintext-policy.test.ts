// The one plaintext-password rule of SMTP, IMAP and POP3: TLS, loopback, or the
// operator's allowPlaintextAuth; loopback is 127.0.0.0/8, ::1 and IPv4-mapped 127.x.
import { describe, expect, it } from 'vitest';
import { isLoopback, plaintextAuthAllowed } from '../../src/net/plaintext-policy.js';

describe('isLoopback', () => {
  it('accepts 127.0.0.0/8, ::1 and 127.x mapped into IPv6', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:127.9.8.7', '::FFFF:127.0.0.1']) {
      expect(isLoopback(address), address).toBe(true);
    }
  });

  it('refuses every other address, and anything that is not an IP address', () => {
    for (const address of ['10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', '2001:db8::1', '127.example.org', '127.0.0.1.evil', '::ffff:127.x', '']) {
      expect(isLoopback(address), address).toBe(false);
    }
  });
});

describe('plaintextAuthAllowed', () => {
  it('allows TLS sessions and loopback clients', () => {
    expect(plaintextAuthAllowed(true, '203.0.113.9', false)).toBe(true);
    expect(plaintextAuthAllowed(false, '::ffff:127.0.0.2', false)).toBe(true);
  });

  it('refuses other clients without TLS unless the operator allows plaintext', () => {
    expect(plaintextAuthAllowed(false, '203.0.113.9', false)).toBe(false);
    expect(plaintextAuthAllowed(false, '203.0.113.9', true)).toBe(true);
  });
});
