// THREAD's two algorithms (RFC 5256 §4) over plain message facts: ORDEREDSUBJECT groups
// by base subject under the earliest message; REFERENCES links messages by their
// References / In-Reply-To ids (placeholders for referenced messages not in the set),
// prunes the placeholders, merges roots of the same base subject, and orders every
// sibling set by sent date, ties by sequence number. No I/O: the command gathers facts.
import type { ThreadNode } from '../protocols/imap/types.js';

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

export function orderedSubjectThreads(messages: ThreadMessage[]): ThreadNode[] {
  const sorted = [...messages].sort((a, b) => compareText(a.subject, b.subject) || byDate(a, b));
  const threads: Array<{ root: ThreadMessage; node: ThreadNode }> = [];
  let current: { root: ThreadMessage; node: ThreadNode } | null = null;
  for (const message of sorted) {
    if (current !== null && current.root.subject === message.subject) {
      current.node.children.push({ id: message.id, children: [] });
      continue;
    }
    current = { root: message, node: { id: message.id, children: [] } };
    threads.push(current);
  }
  threads.sort((a, b) => byDate(a.root, b.root));
  return threads.map((thread) => thread.node);
}

function byDate(a: { date: number; seq: number }, b: { date: number; seq: number }): number {
  return a.date - b.date || a.seq - b.seq;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A message or a placeholder (`message` null) in the REFERENCES tree. */
interface Container {
  message: ThreadMessage | null;
  parent: Container | null;
  children: Container[];
}

export function referenceThreads(messages: ThreadMessage[]): ThreadNode[] {
  const roots = linkByReferences(messages);
  const pruned = pruneRoots(roots);
  const merged = mergeBySubject(pruned);
  sortSiblings(merged);
  return merged.map(toNode);
}

/** Steps 1 and 2: containers linked parent to child along each message's references. */
function linkByReferences(messages: ThreadMessage[]): Container[] {
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const containerFor = (id: string): Container => {
    let container = byId.get(id);
    if (container === undefined) {
      container = { message: null, parent: null, children: [] };
      byId.set(id, container);
      all.push(container);
    }
    return container;
  };
  for (const message of [...messages].sort((a, b) => a.seq - b.seq)) {
    // A missing or repeated Message-ID gets a container of its own (RFC 5256 step 1A).
    const own = message.messageId !== null && byId.get(message.messageId)?.message == null ? containerFor(message.messageId) : null;
    const container = own ?? { message: null, parent: null, children: [] };
    if (own === null) all.push(container);
    container.message = message;
    let previous: Container | null = null;
    for (const reference of message.references) {
      const next = containerFor(reference);
      if (previous !== null && next.parent === null && !isAncestor(next, previous) && next !== previous) link(previous, next);
      previous = next;
    }
    // The last reference is the parent, whatever an earlier message said (step 1C).
    if (container.parent !== null) unlink(container);
    if (previous !== null && previous !== container && !isAncestor(container, previous)) link(previous, container);
  }
  return all.filter((container) => container.parent === null);
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

function unlink(child: Container): void {
  const parent = child.parent!;
  parent.children = parent.children.filter((c) => c !== child);
  child.parent = null;
}

/** True when `ancestor` is `node` or above it; a container without children is above nothing (the common case, no walk). */
function isAncestor(ancestor: Container, node: Container): boolean {
  if (ancestor === node) return true;
  if (ancestor.children.length === 0) return false;
  for (let at: Container | null = node.parent; at !== null; at = at.parent) if (at === ancestor) return true;
  return false;
}

/** Step 4: placeholders without children go; those with children give them to their parent (at the root only when one). */
function pruneRoots(roots: Container[]): Container[] {
  const out: Container[] = [];
  for (const root of roots) {
    root.children = pruneChildren(root.children, root);
    if (root.message !== null) out.push(root);
    else if (root.children.length === 1) out.push(adopt(root.children[0]!, null));
    else if (root.children.length > 1) out.push(root);
  }
  return out;
}

/**
 * Below the root, a placeholder hands its (already pruned) children to its parent. Done
 * bottom-up without recursion: a reply chain can be as deep as the folder is large.
 */
function pruneChildren(children: Container[], parent: Container): Container[] {
  for (const container of postOrder(children)) {
    const kept: Container[] = [];
    for (const child of container.children) {
      if (child.message !== null) kept.push(child);
      else for (const grandchild of child.children) kept.push(adopt(grandchild, container));
    }
    container.children = kept;
  }
  const out: Container[] = [];
  for (const child of children) {
    if (child.message !== null) out.push(child);
    else for (const grandchild of child.children) out.push(adopt(grandchild, parent));
  }
  return out;
}

/** Every container below `roots` (roots included), children before their parent. */
function postOrder(roots: Container[]): Container[] {
  const out: Container[] = [];
  const stack: Array<{ container: Container; expanded: boolean }> = roots.map((container) => ({ container, expanded: false }));
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      out.push(top.container);
      continue;
    }
    stack.push({ container: top.container, expanded: true });
    for (const child of top.container.children) stack.push({ container: child, expanded: false });
  }
  return out;
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

/** Steps 5 and 6: roots in date order, then roots of one base subject gathered. */
function mergeBySubject(input: Container[]): Container[] {
  let roots = [...input].sort((a, b) => byDate(sortDate(a), sortDate(b)));
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
      roots = roots.map((r) => (r === held ? replacement : r));
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
  const placeholder: Container = { message: null, parent: null, children: [] };
  link(placeholder, held);
  link(placeholder, other);
  return placeholder;
}

/** Step 7: every sibling set by sent date, ties by sequence number (children first). */
function sortSiblings(containers: Container[]): void {
  for (const container of postOrder(containers)) container.children.sort((a, b) => byDate(sortDate(a), sortDate(b)));
  containers.sort((a, b) => byDate(sortDate(a), sortDate(b)));
}

/** The answer's tree, built without recursion. */
function toNode(root: Container): ThreadNode {
  const nodes = new Map<Container, ThreadNode>();
  for (const container of postOrder([root])) {
    nodes.set(container, { id: container.message?.id ?? 0, children: container.children.map((child) => nodes.get(child)!) });
  }
  return nodes.get(root)!;
}
