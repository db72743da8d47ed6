// Where a new mailbox goes in a cluster of machines: the live store node with the
// fewest mailboxes (counting placements this node has in flight, so that mailboxes
// placed together spread), then the lowest number. Every node decides for itself;
// the create-if-absent write of the placement makes racing nodes agree.

export function choosePlacement(liveStoreNodes: number[], mailboxesPerNode: ReadonlyMap<number, number>, inFlight: ReadonlyMap<number, number>): number | null {
  let best: number | null = null;
  let bestLoad = Infinity;
  for (const node of [...liveStoreNodes].sort((a, b) => a - b)) {
    const load = (mailboxesPerNode.get(node) ?? 0) + (inFlight.get(node) ?? 0);
    if (load < bestLoad) {
      best = node;
      bestLoad = load;
    }
  }
  return best;
}
