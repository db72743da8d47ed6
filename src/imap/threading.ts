// THREAD's two algorithms (RFC 5256 §4) over plain message facts: ORDEREDSUBJECT groups
// by base subject under the earliest message; REFERENCES links messages by their
// References / In-Reply-To ids (placeholders for referenced messages not in the set),
// prunes the placeholders, merges roots of the same base subject, and orders every
// sibling set by sent date, ties by sequence number. No I/O: the command gathers facts.
import type { ThreadNode } from '../protocols/imap/types.js';

/** Leaves of the answer share one empty child list: nothing writes to a ThreadNode once built. */
const NO_CHILDREN: ThreadNode[] = [];

/** What threading knows of one searched message. */
export interface ThreadMessage {
  /** The number to answer with (sequence number or UID). */
  id: number;
  seq: number;
  /** Sent date, or the internal date when the Date header is missing or bad. */
  date: number;
  /** Base subject, folded for comparing. */
  subject: string;
  replyOrForward: boolean;
  messageId: string | null;
  /** References ids in order, or the first In-Reply-To id when there are none. */
  references: string[];
}

/**
 * The messages in date order, gathered by base subject: a subject's first message is its
 * thread's root and the rest its children, already in date order, and the subjects come out
 * of the map in the order their roots were met. The same answer as sorting by subject, then
 * date, then ordering the threads by root, without comparing subject strings.
 */
export function orderedSubjectThreads(messages: ThreadMessage[]): ThreadNode[] {
  const sorted = [...messages].sort(byDate);
  const threads = new Map<string, ThreadNode>();
  for (const message of sorted) {
    const thread = threads.get(message.subject);
    if (thread === undefined) threads.set(message.subject, { id: message.id, children: [] });
    else thread.children.push({ id: message.id, children: NO_CHILDREN });
  }
  return [...threads.values()];
}

function byDate(a: { date: number; seq: number }, b: { date: number; seq: number }): number {
  return a.date - b.date || a.seq - b.seq;
}

/**
 * A message or a placeholder (`message` null) in the REFERENCES tree. `date` and `seq` are
 * what it sorts by (its message's, or a placeholder's earliest child's), set once before
 * each sort rather than worked out in every comparison; `at` is a root's place in the
 * date-ordered roots while they merge, `node` its answer once built. Fields, not maps keyed
 * by container: 10,000 object-keyed map entries cost more than the threading around them.
 */
interface Container {
  message: ThreadMessage | null;
  parent: Container | null;
  children: Container[];
  date: number;
  seq: number;
  at: number;
  node: ThreadNode | null;
}

function newContainer(message: ThreadMessage | null): Container {
  return { message, parent: null, children: [], date: 0, seq: 0, at: -1, node: null };
}

export function referenceThreads(messages: ThreadMessage[]): ThreadNode[] {
  const roots = linkByReferences(messages);
  const pruned = pruneRoots(roots);
  return orderedNodes(mergeBySubject(pruned));
}

/** Steps 1 and 2: containers linked parent to child along each message's references. */
function linkByReferences(messages: ThreadMessage[]): Container[] {
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const containerFor = (id: string): Container => {
    let container = byId.get(id);
    if (container === undefined) {
      container = newContainer(null);
      byId.set(id, container);
      all.push(container);
    }
    return container;
  };
  for (const message of inSequenceOrder(messages)) {
    // A missing or repeated Message-ID gets a container of its own (RFC 5256 step 1A).
    const held = message.messageId === null ? undefined : byId.get(message.messageId);
    const own = message.messageId !== null && (held === undefined || held.message === null) ? containerFor(message.messageId) : null;
    const container = own ?? newContainer(null);
    if (own === null) all.push(container);
    container.message = message;
    let previous: Container | null = null;
    for (const reference of message.references) {
      const next = containerFor(reference);
      if (previous !== null && next.parent === null && next !== previous && !isAncestor(next, previous)) link(previous, next);
      previous = next;
    }
    // The last reference is the parent, whatever an earlier message said (step 1C). Sibling
    // order does not matter before step 7, so a container already under it stays where it is.
    if (container.parent !== null && container.parent === previous) continue;
    if (container.parent !== null) unlink(container);
    if (previous !== null && previous !== container && !isAncestor(container, previous)) link(previous, container);
  }
  const roots: Container[] = [];
  for (const container of all) if (container.parent === null) roots.push(container);
  return roots;
}

/** The messages by sequence number; the command gathers them in that order already, so no copy then. */
function inSequenceOrder(messages: ThreadMessage[]): ThreadMessage[] {
  for (let i = 1; i < messages.length; i++) {
    if (messages[i - 1]!.seq > messages[i]!.seq) return [...messages].sort((a, b) => a.seq - b.seq);
  }
  return messages;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

function unlink(child: Container): void {
  const parent = child.parent!;
  const siblings = parent.children;
  siblings.splice(siblings.indexOf(child), 1);
  child.parent = null;
}

/** True when `ancestor` is `node` or above it; a container without children is above nothing (the common case, no walk). */
function isAncestor(ancestor: Container, node: Container): boolean {
  if (ancestor === node) return true;
  if (ancestor.children.length === 0) return false;
  for (let at: Container | null = node.parent; at !== null; at = at.parent) if (at === ancestor) return true;
  return false;
}

/**
 * Step 4: placeholders without children go; those with children give them to their parent
 * (at the root only when there is one). Done bottom-up in one walk over every tree, without
 * recursion: a reply chain can be as deep as the folder is large.
 */
function pruneRoots(roots: Container[]): Container[] {
  for (const container of postOrder(roots)) {
    if (container.children.some(isPlaceholder)) container.children = liftPlaceholders(container.children, container);
  }
  const out: Container[] = [];
  for (const root of roots) {
    if (root.message !== null) out.push(root);
    else if (root.children.length === 1) out.push(adopt(root.children[0]!, null));
    else if (root.children.length > 1) out.push(root);
  }
  return out;
}

function isPlaceholder(container: Container): boolean {
  return container.message === null;
}

/** `children` with each placeholder replaced by its own children, now `parent`'s. */
function liftPlaceholders(children: Container[], parent: Container): Container[] {
  const kept: Container[] = [];
  for (const child of children) {
    if (child.message !== null) kept.push(child);
    else for (const grandchild of child.children) kept.push(adopt(grandchild, parent));
  }
  return kept;
}

/**
 * Every container below `roots` (roots included), each after all of its descendants: the
 * reverse of a depth-first walk that lists a container before its children. One array, no
 * per-container bookkeeping objects.
 */
function postOrder(roots: Container[]): Container[] {
  const out: Container[] = [];
  const stack: Container[] = roots.slice();
  while (stack.length > 0) {
    const container = stack.pop()!;
    out.push(container);
    // Indexed, not for-of: the first call after a start runs this before V8 optimises it,
    // and an iterator per container is what the unoptimised loop spent most on.
    const children = container.children;
    for (let i = 0; i < children.length; i++) stack.push(children[i]!);
  }
  return out.reverse();
}

function adopt(child: Container, parent: Container | null): Container {
  child.parent = parent;
  return child;
}

/** The date a container sorts by: its message's, or a placeholder's earliest child's. */
function sortDate(container: Container): { date: number; seq: number } {
  if (container.message !== null) return container.message;
  return earliestChild(container)?.message ?? { date: 0, seq: 0 };
}

/** A placeholder root's subject is its earliest child's. */
function subjectOf(container: Container): ThreadMessage | null {
  return container.message ?? earliestChild(container)?.message ?? null;
}

/** Placeholders only have message children once pruned, except at the root: one level down is enough. */
function earliestChild(container: Container): Container | null {
  let best: Container | null = null;
  for (const child of container.children) if (best === null || byDate(sortDate(child), sortDate(best)) < 0) best = child;
  return best;
}

/** Sets `date` and `seq` from the container's current children (placeholders only look at theirs). */
function setSortKey(container: Container): void {
  const key = sortDate(container);
  container.date = key.date;
  container.seq = key.seq;
}

/** Containers whose `date` and `seq` are set, in that order. */
function bySortKey(a: Container, b: Container): number {
  return a.date - b.date || a.seq - b.seq;
}

/** Steps 5 and 6: roots in date order, then roots of one base subject gathered. */
function mergeBySubject(input: Container[]): Container[] {
  for (const root of input) setSortKey(root);
  const roots = [...input].sort(bySortKey);
  const table = new Map<string, Container>();
  for (const root of roots) {
    const message = subjectOf(root);
    if (message === null || message.subject === '') continue;
    const held = table.get(message.subject);
    if (held === undefined
      || (root.message === null && held.message !== null)
      || (held.message !== null && root.message !== null && held.message.replyOrForward && !root.message.replyOrForward)) {
      table.set(message.subject, root);
    }
  }
  // Where each root stands, so that a replaced root is swapped in place.
  for (let i = 0; i < roots.length; i++) roots[i]!.at = i;
  const removed = new Set<Container>();
  for (const root of roots) {
    const message = subjectOf(root);
    if (message === null || message.subject === '') continue;
    const held = table.get(message.subject)!;
    if (held === root || removed.has(root) || removed.has(held)) continue;
    const replacement = mergeRoots(held, root);
    removed.add(root);
    if (replacement !== held) {
      removed.add(held);
      table.set(message.subject, replacement);
      if (held.at >= 0) {
        roots[held.at] = replacement;
        replacement.at = held.at;
      }
    }
  }
  return roots.filter((root) => !removed.has(root));
}

/** Merges `other` into `held` (a root of the same base subject); returns the container now holding both. */
function mergeRoots(held: Container, other: Container): Container {
  if (held.message === null && other.message === null) {
    for (const child of other.children) link(held, child);
    return held;
  }
  if (held.message === null) {
    link(held, other);
    return held;
  }
  if (other.message === null) {
    link(other, held);
    return other;
  }
  if (!held.message.replyOrForward && other.message.replyOrForward) {
    link(held, other);
    return held;
  }
  if (held.message.replyOrForward && !other.message.replyOrForward) {
    link(other, held);
    return other;
  }
  const placeholder = newContainer(null);
  link(placeholder, held);
  link(placeholder, other);
  return placeholder;
}

/**
 * Step 7 and the answer: in one bottom-up pass each container gets its sort key (a
 * placeholder's from its children), its children sorted by sent date, ties by sequence
 * number, and its answer node built from theirs. No recursion: a reply chain can be as
 * deep as the folder is large.
 */
function orderedNodes(roots: Container[]): ThreadNode[] {
  for (const container of postOrder(roots)) {
    setSortKey(container);
    const children = container.children;
    if (children.length > 1) children.sort(bySortKey);
    let childNodes = NO_CHILDREN;
    if (children.length > 0) {
      childNodes = new Array<ThreadNode>(children.length);
      for (let i = 0; i < children.length; i++) childNodes[i] = children[i]!.node!;
    }
    container.node = { id: container.message?.id ?? 0, children: childNodes };
  }
  roots.sort(bySortKey);
  return roots.map((root) => root.node!);
}
