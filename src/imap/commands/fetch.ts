// FETCH and UID FETCH (RFC 3501 §6.4.5) with CHANGEDSINCE and VANISHED (RFC 7162).
// BODY[...] without PEEK sets \Seen through a store request first. Messages expunged
// by another session and not yet reported are answered from the view and the body the
// mailbox keeps for us (RFC 2180 §4.1.1); only a body gone anyway gives NO [EXPUNGEISSUED].
import { sequenceSetContains } from '../../protocols/imap/sequence-set.js';
import { applyFlagUpdates, resolveSet, sequenceOf, sequenceSetOutOfRange, visibleFlags } from '../view.js';
import {
  contentNeeded, fetchContentIfCached, loadFetchContent, plannedItems, UnknownTransferEncodingError, loadRendered, renderedIfKnown, renderedItemsOf, renderFetchItems, setsSeen, structureNeeded,
  unsupportedItem, type FetchContent, type RenderedItem, type RenderedItems,
} from '../fetch-items.js';
import type { FetchAnswer } from '../../protocols/imap/types.js';
import { fetchValueBytes } from '../../protocols/imap/writer.js';
import { plannedLineBytes, writePlannedLines, type PlannedItem, type PlannedLine } from '../../protocols/imap/planned-fetch.js';
import { vanishedSince } from './select.js';
import {
  bad, commandOf, no, ok, selectedFolder, SELECTED,
  type CommandSpec, type Completion, type ImapContext, type SelectedFolder,
} from './command.js';

export const fetch: CommandSpec = {
  name: 'FETCH',
  states: SELECTED,
  needsSelected: true,
  allowExpungeDuring: 'uid',
  async handle(ctx, command) {
    const cmd = commandOf(command, 'FETCH');
    const folder = selectedFolder(ctx);
    if (!cmd.uid && sequenceSetOutOfRange(folder, cmd.sequence)) return bad('Invalid sequence number');
    const unsupported = unsupportedItem(cmd.items);
    if (unsupported !== null) return bad(`${unsupported} is not supported`);
    if (cmd.vanished && (!cmd.uid || cmd.changedSince === undefined || !ctx.enabled.has('QRESYNC'))) {
      return bad('VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled');
    }
    // RFC 7162 §3.1: CHANGEDSINCE and the MODSEQ item are CONDSTORE-enabling.
    if (cmd.changedSince !== undefined || cmd.items.some((i) => i.name === 'MODSEQ')) await ctx.enableCondstore();
    let uids = resolveSet(folder, cmd.sequence, cmd.uid);
    if (cmd.vanished) await reportVanished(ctx, folder, cmd.sequence, Number(cmd.changedSince));
    if (cmd.changedSince !== undefined) {
      const since = Number(cmd.changedSince);
      uids = uids.filter((uid) => folder.messages.get(uid)!.modseq > since);
    }
    // Messages expunged by another session and not yet reported are answered too (their
    // bodies are kept until we send the EXPUNGE; RFC 2180 §4.1.1), only \Seen is not set on them.
    const live = uids.filter((uid) => !folder.vanishing.has(uid));
    const marked = setsSeen(cmd.items) && !folder.readOnly ? await markSeen(ctx, folder, live) : new Set<number>();
    if (marked === null) return no('Could not set \\Seen');
    let missing: number;
    try {
      missing = await sendAnswers(ctx, folder, uids, cmd, marked);
    } catch (err) {
      if (err instanceof UnknownTransferEncodingError) return no('Unknown Content-Transfer-Encoding', { code: 'UNKNOWN-CTE' });
      throw err;
    }
    if (missing > 0) return no('Some messages were expunged by another session', { code: 'EXPUNGEISSUED' });
    return ok(`${cmd.uid ? 'UID FETCH' : 'FETCH'} completed`);
  },
};

type FetchCommand = ReturnType<typeof commandOf<'FETCH'>>;

/** Answers are gathered and sent together once this many bytes wait (and at the end). */
const ANSWER_BATCH_BYTES = 128 * 1024;

/**
 * Sends one FETCH answer per message, gathered into few sends (`fetches`: one buffer for
 * many lines); returns how many could not be read (expunged meanwhile). Rendered items
 * already cached are taken without waiting, so a `UID FETCH 1:* (FLAGS ENVELOPE)` of a
 * mailbox seen before runs as one loop.
 */
async function sendAnswers(ctx: ImapContext, folder: SelectedFolder, uids: number[], cmd: FetchCommand, marked: Set<number>): Promise<number> {
  const needed = contentNeeded(cmd.items);
  const includeModseq = cmd.changedSince !== undefined || (ctx.enabled.has('CONDSTORE') && cmd.items.some((i) => i.name === 'FLAGS'));
  const wanted = renderedItemsOf(cmd.items);
  const plan = marked.size === 0 ? plannedItems(cmd.items, cmd.uid, includeModseq) : null;
  if (plan !== null) return sendPlanned(ctx, folder, uids, plan, wanted);
  const withStructure = structureNeeded(cmd.items);
  let missing = 0;
  let answers: FetchAnswer[] = [];
  let waiting = 0;
  for (const uid of uids) {
    const message = folder.messages.get(uid);
    if (message === undefined) {
      missing++;
      continue;
    }
    let content: FetchContent | null = null;
    let rendered: RenderedItems | undefined;
    if (needed === 'raw') {
      content = fetchContentIfCached(ctx.mailbox().reader, message.blob, withStructure) ?? await loadOrNull(ctx, message.blob, withStructure);
      if (content === null) {
        missing++;
        continue;
      }
    } else if (needed === 'structure') {
      rendered = renderedIfKnown(message.blob, wanted) ?? await renderedOrNull(ctx, message.blob, wanted);
      if (rendered === undefined) {
        missing++;
        continue;
      }
    }
    const items = renderFetchItems(message, cmd.items, content, {
      includeUid: cmd.uid, includeModseq, flags: visibleFlags(folder, message), flagsChanged: marked.has(uid),
    }, rendered);
    answers.push({ seq: sequenceOf(folder, uid), items });
    for (const item of items) waiting += fetchValueBytes(item.value);
    if (waiting >= ANSWER_BATCH_BYTES) {
      await ctx.send({ type: 'fetches', answers });
      answers = [];
      waiting = 0;
    }
  }
  if (answers.length > 0) await ctx.send({ type: 'fetches', answers });
  return missing;
}

const NOTHING_RENDERED: RenderedItems = {};

/**
 * The answers of a planned FETCH (every item from the view or a rendered structure, no
 * FLAGS added by \Seen): written straight into buffers of ~128 KiB, one line per message.
 */
async function sendPlanned(ctx: ImapContext, folder: SelectedFolder, uids: number[], plan: PlannedItem[], wanted: readonly RenderedItem[]): Promise<number> {
  let missing = 0;
  let lines: PlannedLine[] = [];
  let bytes = 0;
  for (const uid of uids) {
    const message = folder.messages.get(uid);
    if (message === undefined) {
      missing++;
      continue;
    }
    let rendered = NOTHING_RENDERED;
    if (wanted.length > 0) {
      const known = renderedIfKnown(message.blob, wanted) ?? await renderedOrNull(ctx, message.blob, wanted);
      if (known === undefined) {
        missing++;
        continue;
      }
      rendered = known;
    }
    const line: PlannedLine = {
      seq: sequenceOf(folder, uid), uid, size: message.size, modseq: message.modseq, flags: message.flags, recent: folder.recent.has(uid), rendered,
    };
    lines.push(line);
    bytes += plannedLineBytes(plan, line);
    if (bytes >= ANSWER_BATCH_BYTES) {
      await ctx.send({ type: 'fetch-lines', bytes: writePlannedLines(plan, lines, bytes) });
      lines = [];
      bytes = 0;
    }
  }
  if (lines.length > 0) await ctx.send({ type: 'fetch-lines', bytes: writePlannedLines(plan, lines, bytes) });
  return missing;
}

async function renderedOrNull(ctx: ImapContext, blob: string, wanted: readonly RenderedItem[]): Promise<RenderedItems | undefined> {
  try {
    return await loadRendered(ctx.mailbox().reader, blob, wanted);
  } catch (err) {
    if (noPermission(err)) throw err;
    ctx.deps.log.debug({ err, blob }, 'message structure gone (expunged by another session)');
    return undefined;
  }
}

async function loadOrNull(ctx: ImapContext, blob: string, withStructure: boolean): Promise<FetchContent | null> {
  try {
    return await loadFetchContent(ctx.mailbox().reader, blob, withStructure);
  } catch (err) {
    if (noPermission(err)) throw err;
    ctx.deps.log.debug({ err, blob }, 'message body gone (expunged by another session)');
    return null;
  }
}

/** Sets \Seen on the unseen ones; returns the UIDs whose flags changed, or null on failure. */
async function markSeen(ctx: ImapContext, folder: SelectedFolder, uids: number[]): Promise<Set<number> | null> {
  const unseen = uids.filter((uid) => !folder.messages.get(uid)!.flags.includes('\\Seen'));
  if (unseen.length === 0) return new Set();
  const reply = await ctx.mailbox().store({ name: folder.name, uids: unseen, operation: 'add', flags: ['\\Seen'] });
  if (!reply.ok) {
    ctx.deps.log.warn({ error: reply.error }, 'setting \\Seen failed');
    return null;
  }
  applyFlagUpdates(folder, reply.updated, reply.highestModseq);
  // Another session's keyword may come back with our \Seen: FLAGS first (RFC 3501 §7.2.6).
  await ctx.announceKeywords(reply.updated);
  return new Set(reply.updated.map((m) => m.uid));
}

/** `* VANISHED (EARLIER)` for the UID FETCH (CHANGEDSINCE m VANISHED) range (RFC 7162 §3.2.6). */
async function reportVanished(ctx: ImapContext, folder: SelectedFolder, set: FetchCommand['sequence'], since: number): Promise<void> {
  const largest = Math.max(folder.uidNext - 1, 1);
  const uids = await vanishedSince(ctx, folder, since, { knownUids: set });
  const inRange = uids.filter((uid) => sequenceSetContains(set, uid, largest));
  if (inRange.length > 0) await ctx.send({ type: 'vanished', earlier: true, uids: inRange });
}

export type { Completion };

/** The user lost the right to read this shared folder (IMAP ACL): the command fails with NOPERM. */
function noPermission(err: unknown): boolean {
  return (err as { imapCode?: unknown } | null)?.imapCode === 'NOPERM';
}
