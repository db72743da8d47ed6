// The other nodes of a cluster of machines, as the listeners see them: a node's session
// proxy connects to the node holding a mailbox and logs in there with a cluster ticket,
// in the clear on the cluster's network, many sessions from one address. Such a
// connection may send a password without TLS and is not held to the per-address cap.
// Set once by a node of a cluster (src/node.ts); nobody is a peer in any other process.
let isPeer: (address: string) => boolean = () => false;

export function trustClusterPeers(predicate: (address: string) => boolean): void {
  isPeer = predicate;
}

export function isClusterPeer(address: string): boolean {
  return isPeer(address.replace(/^::ffff:/i, ''));
}
