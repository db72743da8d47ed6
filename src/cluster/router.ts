// The router actor (in the primary): places each new mailbox on the least-loaded
// running store node (fewest mailboxes, placements in flight included; then fewest
// stored bytes; then the lowest node id) and records the placement in the directory,
// whose change feed tells every node. It never waits inside a message: the
// directory's answer comes back to it as a message of its own, so placements asked
// together are decided one after another and written in one group commit.
import type { Ref } from 'nact';
import type { AdminReply, Directory } from '../directory/directory.js';
import type { DirectoryCache } from '../directory/cache.js';
import type { PlacementRecord } from '../directory/records.js';
import { ask, dispatch, failure, type Failure } from '../core/supervision.js';

export interface StoreNodeLoad {
  node: number;
  state: string;
  stats: { blobBytes: number } | null;
}

export type PlaceReply = { ok: true; node: number } | Failure;

export type RouterMessage =
  | { type: 'place'; mailboxId: string; replyTo: Ref<PlaceReply> }
  /** The directory recorded (or failed to record) a placement this actor decided. */
  | { type: 'recorded'; mailboxId: string; node: number; reply: AdminReply<PlacementRecord> };

export interface RouterState {
  /** Requests waiting for a placement being recorded, per mailbox. */
  waiting: Map<string, Array<Ref<PlaceReply>>>;
  /** Placements decided but not yet in the directory's cache, per node. */
  pending: Map<number, number>;
}

export function initialRouterState(): RouterState {
  return { waiting: new Map(), pending: new Map() };
}

/** The running store node (any store node if none runs) with the least load. */
function leastLoaded(all: StoreNodeLoad[], cache: DirectoryCache, pending: ReadonlyMap<number, number>): number {
  if (all.length === 0) throw new Error('no store node');
  const up = all.filter((n) => n.state === 'running');
  const nodes = up.length > 0 ? up : all;
  const placed = cache.mailboxesPerNode();
  const load = (n: StoreNodeLoad) => (placed.get(n.node) ?? 0) + (pending.get(n.node) ?? 0);
  const ranked = [...nodes].sort((a, b) =>
    (load(a) - load(b)) || ((a.stats?.blobBytes ?? 0) - (b.stats?.blobBytes ?? 0)) || (a.node - b.node));
  return ranked[0].node;
}

export function routerBehaviour(directory: Directory, storeNodes: () => StoreNodeLoad[]) {
  return (state: RouterState, msg: RouterMessage, ctx: { self: Ref<RouterMessage> }): RouterState => {
    switch (msg.type) {
      case 'place': {
        const known = directory.cache.placements.get(msg.mailboxId);
        if (known) {
          dispatch(msg.replyTo, { ok: true, node: known.node });
          return state;
        }
        const waiters = state.waiting.get(msg.mailboxId);
        if (waiters) {
          waiters.push(msg.replyTo);
          return state;
        }
        const nodes = storeNodes();
        if (nodes.length === 0) {
          dispatch(msg.replyTo, failure('no store node'));
          return state;
        }
        const node = leastLoaded(nodes, directory.cache, state.pending);
        state.waiting.set(msg.mailboxId, [msg.replyTo]);
        state.pending.set(node, (state.pending.get(node) ?? 0) + 1);
        const { mailboxId } = msg;
        directory.request<PlacementRecord>((replyTo) => ({ type: 'set-placement', mailboxId, node, replyTo })).then(
          (reply) => dispatch(ctx.self, { type: 'recorded', mailboxId, node, reply }),
          (err: Error) => dispatch(ctx.self, { type: 'recorded', mailboxId, node, reply: failure(err.message) }),
        );
        return state;
      }
      case 'recorded': {
        state.pending.set(msg.node, (state.pending.get(msg.node) ?? 1) - 1);
        const answer: PlaceReply = msg.reply.ok ? { ok: true, node: msg.reply.value.node } : failure(`placement failed: ${msg.reply.error}`);
        for (const replyTo of state.waiting.get(msg.mailboxId) ?? []) dispatch(replyTo, answer);
        state.waiting.delete(msg.mailboxId);
        return state;
      }
    }
  };
}

/** The node of a mailbox, placing it first if it has none. */
export async function placeMailbox(router: Ref<RouterMessage>, mailboxId: string): Promise<number> {
  const reply = await ask<RouterMessage, PlaceReply>(router, (replyTo) => ({ type: 'place', mailboxId, replyTo }));
  if (!reply.ok) throw new Error(reply.error);
  return reply.node;
}
