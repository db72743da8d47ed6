// Cluster tickets, the credential a node's session proxy logs in with on the node
// holding the mailbox: good only from a peer's address, for the account it was made
// for, with the cluster's secret, within two minutes of its time.
import { describe, expect, it } from 'vitest';
import { PeerTickets } from '../../src/cluster/peer-tickets.js';

const PEER = '10.0.0.2';
const isPeer = (address: string) => address === PEER;

describe('PeerTickets', () => {
  it('accepts a ticket from a peer for its own account only, made with the same secret, within two minutes', () => {
    let now = 1_800_000_000_000;
    const issuer = new PeerTickets('s3cret', isPeer, () => now);
    const owner = new PeerTickets('s3cret', isPeer, () => now);
    const ticket = issuer.issue('Ann@Example.test');
    expect(ticket).toMatch(/^ternmail-cluster:\d+:[0-9a-f]{64}$/);
    expect(owner.accepts(PEER, 'ann@example.test', ticket)).toBe(true);
    expect(owner.accepts('10.0.0.9', 'ann@example.test', ticket)).toBe(false);
    expect(owner.accepts(PEER, 'bob@example.test', ticket)).toBe(false);
    expect(new PeerTickets('other', isPeer, () => now).accepts(PEER, 'ann@example.test', ticket)).toBe(false);
    expect(owner.accepts(PEER, 'ann@example.test', ticket.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).toBe(false);
    expect(owner.accepts(PEER, 'ann@example.test', 'ternmail-cluster:x:y')).toBe(false);
    expect(owner.accepts(PEER, 'ann@example.test', 'a plain password')).toBe(false);
    now += 119_000;
    expect(owner.accepts(PEER, 'ann@example.test', ticket)).toBe(true);
    now += 2_000;
    expect(owner.accepts(PEER, 'ann@example.test', ticket)).toBe(false);
  });
});
