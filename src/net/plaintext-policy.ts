// One rule for every listener (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS and
// AUTH): a password may cross the wire in the clear only over TLS, from this machine
// (loopback: 127.0.0.0/8, ::1, and 127.x written as an IPv4-mapped IPv6 address), or
// where the operator allows plaintext, or from another node of a cluster of machines. Only real IP addresses count as loopback.
import net from 'node:net';
import { isClusterPeer } from './cluster-peers.js';

const IPV4_MAPPED = /^::ffff:/i;

/** True for an address of this machine's loopback interface. */
export function isLoopback(address: string): boolean {
  const ipv4 = IPV4_MAPPED.test(address) ? address.replace(IPV4_MAPPED, '') : address;
  if (net.isIPv4(ipv4)) return ipv4.startsWith('127.');
  return net.isIPv6(address) && (address === '::1' || address === '0:0:0:0:0:0:0:1');
}

/** Whether this connection may send a password in the clear. */
export function plaintextAuthAllowed(tlsActive: boolean, remoteAddress: string, allowPlaintextAuth: boolean): boolean {
  return tlsActive || isLoopback(remoteAddress) || allowPlaintextAuth || isClusterPeer(remoteAddress);
}
