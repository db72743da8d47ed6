// GETMETADATA and SETMETADATA (RFC 5464): entries under /private/ and /shared/ for a
// folder, or for the server with the mailbox name "". Every entry belongs to the one
// user (no folder is shared, so /shared/ and /private/ differ only by name). Values are
// bounded (MAXSIZE), and so is the number of entries per folder (TOOMANY).
import type { GetMetadataCommand } from '../../protocols/imap/types.js';
import { AUTHENTICATED, bad, commandOf, failed, folderName, no, ok, type CommandSpec } from './command.js';

/** Largest value SETMETADATA takes. */
export const MAX_METADATA_VALUE = 64 * 1024;
/** Entries one folder (or the server) may carry. */
export const MAX_METADATA_ENTRIES = 256;

/** `/private/...` or `/shared/...`, non-empty levels of printable ASCII without wildcards. */
const ENTRY_NAME = /^\/(private|shared)(\/[\x21-\x7e]+)+$/;

function validEntry(name: string): boolean {
  return ENTRY_NAME.test(name) && !/[*%]/.test(name) && !name.includes('//') && !name.endsWith('/');
}

export const getmetadata: CommandSpec = {
  name: 'GETMETADATA',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'GETMETADATA');
    if (!cmd.entries.every(validEntry)) return bad('Invalid entry name');
    const name = cmd.mailbox === '' ? '' : folderName(cmd.mailbox);
    const reply = await ctx.mailbox().metadata(name);
    if (!reply.ok) return failed(reply);
    const { found, longest } = selectEntries(reply.entries, cmd);
    if (found.length > 0) {
      await ctx.send({ type: 'metadata', mailbox: cmd.mailbox, entries: found.map(([entry, value]) => [entry, value === null ? null : Buffer.from(value, 'latin1')]) });
    }
    if (longest > 0) return ok('GETMETADATA completed', { code: 'METADATA', problem: 'LONGENTRIES', value: longest });
    return ok('GETMETADATA completed');
  },
};

/**
 * The requested entries (NIL when absent) and, by DEPTH, their descendants; values over
 * MAXSIZE are left out and the longest of them reported (RFC 5464 §4.2.1).
 */
function selectEntries(entries: Record<string, string>, cmd: GetMetadataCommand): { found: Array<[string, string | null]>; longest: number } {
  const found: Array<[string, string | null]> = [];
  let longest = 0;
  const add = (entry: string, value: string | null) => {
    if (found.some(([name]) => name === entry)) return;
    if (value !== null && cmd.maxSize !== undefined && value.length > cmd.maxSize) {
      longest = Math.max(longest, value.length);
      return;
    }
    found.push([entry, value]);
  };
  for (const requested of cmd.entries) {
    add(requested, entries[requested] ?? null);
    if (cmd.depth === '0') continue;
    for (const [entry, value] of Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!entry.startsWith(`${requested}/`)) continue;
      if (cmd.depth === '1' && entry.slice(requested.length + 1).includes('/')) continue;
      add(entry, value);
    }
  }
  return { found, longest };
}

export const setmetadata: CommandSpec = {
  name: 'SETMETADATA',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'SETMETADATA');
    if (!cmd.entries.every(([entry]) => validEntry(entry))) return bad('Invalid entry name');
    const largest = Math.max(0, ...cmd.entries.map(([, value]) => value?.length ?? 0));
    if (largest > MAX_METADATA_VALUE) return no('Value too large', { code: 'METADATA', problem: 'MAXSIZE', value: MAX_METADATA_VALUE });
    const name = cmd.mailbox === '' ? '' : folderName(cmd.mailbox);
    const entries = cmd.entries.map(([entry, value]): [string, string | null] => [entry, value === null ? null : value.toString('latin1')]);
    const reply = await ctx.mailbox().setMetadata(name, entries, MAX_METADATA_ENTRIES);
    if (!reply.ok && reply.code === 'LIMIT') return no('Too many entries', { code: 'METADATA', problem: 'TOOMANY' });
    return reply.ok ? ok('SETMETADATA completed') : failed(reply);
  },
};
