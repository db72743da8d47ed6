// CATENATE (RFC 4469): an APPENDed message built from literal TEXT pieces and URLs of
// messages or parts already in this user's folders. A URL that does not parse, names a
// folder or UID that is not there, or carries a stale UIDVALIDITY fails the whole APPEND
// with NO [BADURL]; the result is bounded by the APPEND size limit.
import { parseMessageUrl } from '../protocols/imap/imap-url.js';
import { extractSection } from '../protocols/imap/sections.js';
import type { CatenatePart } from '../protocols/imap/types.js';
import type { UserMailbox } from './backend.js';
import { folderName } from './commands/command.js';

export type Catenated = { ok: true; message: Buffer } | { ok: false; badUrl: string } | { ok: false; tooBig: true };

export async function catenate(mailbox: UserMailbox, parts: CatenatePart[], maxSize: number): Promise<Catenated> {
  const pieces: Buffer[] = [];
  let size = 0;
  for (const part of parts) {
    const data = part.kind === 'text' ? part.data : await fetchUrl(mailbox, part.url);
    if (data === null) return { ok: false, badUrl: part.kind === 'url' ? part.url : '' };
    size += data.length;
    if (size > maxSize) return { ok: false, tooBig: true };
    pieces.push(data);
  }
  return { ok: true, message: Buffer.concat(pieces) };
}

async function fetchUrl(mailbox: UserMailbox, url: string): Promise<Buffer | null> {
  const parsed = parseMessageUrl(url);
  if (parsed === null) return null;
  const found = await mailbox.messageByUid(folderName(parsed.mailbox), parsed.uid);
  if (!found.ok || (parsed.uidValidity !== undefined && parsed.uidValidity !== found.uidValidity)) return null;
  try {
    const [raw, structure] = await Promise.all([mailbox.reader.readAll(found.blob), mailbox.reader.structure(found.blob)]);
    return extractSection(raw, structure, parsed.section, parsed.partial);
  } catch {
    // Expunged (and collected) since the lookup.
    return null;
  }
}
