// THREAD=REFERENCES on hostile reference data: loops, duplicate and missing Message-IDs,
// self references. Every message appears exactly once and nothing recurses forever. The
// exact trees of replies seen before their parents and of roots merged by subject are
// checked through the writer, as a client reads them.
import { describe, expect, it } from 'vitest';
import { referenceThreads, type ThreadMessage } from '../../src/imap/threading.js';
import type { ThreadNode } from '../../src/protocols/imap/types.js';
import { writeResponse } from '../../src/protocols/imap/writer.js';

function message(id: number, messageId: string | null, references: string[], subject = `s${id}`): ThreadMessage {
  return { id, seq: id, date: id * 1000, subject, replyOrForward: false, messageId, references };
}

function ids(nodes: ThreadNode[]): number[] {
  return nodes.flatMap((node) => [...(node.id === 0 ? [] : [node.id]), ...ids(node.children)]);
}

describe('REFERENCES threading on hostile input', () => {
  it('survives reference loops and self references', () => {
    const threads = referenceThreads([
      message(1, '<a>', ['<b>']),
      message(2, '<b>', ['<a>']),
      message(3, '<c>', ['<c>', '<c>']),
    ]);
    expect(ids(threads).sort()).toEqual([1, 2, 3]);
  });

  it('gives a repeated or missing Message-ID a thread node of its own', () => {
    const threads = referenceThreads([message(1, '<a>', []), message(2, '<a>', []), message(3, null, ['<a>'])]);
    expect(ids(threads).sort()).toEqual([1, 2, 3]);
  });

  it('keeps a placeholder root when several messages reference one missing message', () => {
    expect(referenceThreads([message(1, '<x>', ['<gone>']), message(2, '<y>', ['<gone>'])])).toEqual([
      { id: 0, children: [{ id: 1, children: [] }, { id: 2, children: [] }] },
    ]);
  });

  it('threads a reply chain as deep as a large folder without running out of stack', () => {
    const chain = Array.from({ length: 30_000 }, (_, i) => message(i + 1, `<${i + 1}>`, i === 0 ? [] : [`<${i}>`]));
    const [root] = referenceThreads(chain);
    let depth = 0;
    for (let node = root; node !== undefined; node = node.children[0]) depth++;
    expect(depth).toBe(30_000);
  });

  it('re-parents replies seen before their parents and ignores a References order that would loop', () => {
    const threads = referenceThreads([
      fact(1, '<c>', ['<a>', '<b>'], 'TOPIC', true, 3000),
      fact(2, '<b>', ['<a>'], 'TOPIC', true, 2000),
      fact(3, '<a>', [], 'TOPIC', false, 1000),
      fact(4, '<d>', ['<a>', '<b>'], 'TOPIC', true, 4000),
      fact(5, '<e>', ['<b>', '<a>'], 'TOPIC', true, 500),
    ]);
    expect(threadLine(threads)).toBe('* THREAD (3 (5)(2 (1)(4)))');
  });

  it('merges roots of one base subject under a placeholder, keeps empty subjects apart, gives a duplicate id its own node', () => {
    const threads = referenceThreads([
      fact(1, '<p1>', [], 'PLAN', false, 1000),
      fact(2, '<p2>', [], 'PLAN', false, 2000),
      fact(3, '<p3>', ['<gone>'], 'PLAN', true, 3000),
      fact(4, '<x>', [], '', false, 1500),
      fact(5, '<y>', ['<x>'], '', true, 500),
      fact(6, '<p1>', ['<p2>'], 'OTHER', false, 2500),
    ]);
    expect(threadLine(threads)).toBe('* THREAD ((1)(2 6)(3))(4 5)');
  });
});

function fact(id: number, messageId: string, references: string[], subject: string, replyOrForward: boolean, date: number): ThreadMessage {
  return { id, seq: id, date, subject, replyOrForward, messageId, references };
}

function threadLine(threads: ThreadNode[]): string {
  return writeResponse({ type: 'thread', threads }).toString('latin1').trimEnd();
}
