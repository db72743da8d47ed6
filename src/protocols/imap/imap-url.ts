// The IMAP URLs CATENATE reads parts from (RFC 5092 §5, as RFC 4469 uses them):
// `[imap://authority]/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]`,
// keys in any case, the mailbox percent-encoded UTF-8. Anything else is not a URL we
// can fetch (the command answers NO [BADURL]). URLAUTH is not supported.
import type { PartialRange, SectionSpec, SectionText } from './sections.js';

export interface MessageUrl {
  mailbox: string;
  uidValidity?: number;
  uid: number;
  section: SectionSpec;
  partial?: PartialRange;
}

const SECTION_TEXTS = new Set<SectionText>(['HEADER', 'TEXT', 'MIME']);

export function parseMessageUrl(url: string): MessageUrl | null {
  let path = url;
  if (url.toLowerCase().startsWith('imap://')) {
    const slash = url.indexOf('/', 7);
    if (slash < 0) return null;
    path = url.slice(slash);
  }
  if (!path.startsWith('/')) return null;
  const [first, ...rest] = path.slice(1).split('/;');
  if (first === undefined || rest.length === 0) return null;
  const [encodedMailbox, ...mailboxParams] = first.split(';');
  const mailbox = decodeMailbox(encodedMailbox ?? '');
  if (mailbox === null || mailbox === '') return null;
  const out: Partial<MessageUrl> & { section: SectionSpec } = { mailbox, section: { part: [] } };
  for (const param of mailboxParams) {
    const uidValidity = numberParam(param, 'UIDVALIDITY');
    if (uidValidity === null) return null;
    out.uidValidity = uidValidity;
  }
  for (const segment of rest) {
    const [key = '', value = ''] = splitParam(segment);
    if (key === 'UID') out.uid = positive(value) ?? undefined;
    else if (key === 'SECTION') {
      const section = parseSection(value);
      if (section === null) return null;
      out.section = section;
    } else if (key === 'PARTIAL') {
      const partial = /^(\d{1,10})(?:\.(\d{1,10}))?$/.exec(value);
      if (partial === null) return null;
      out.partial = { offset: Number(partial[1]), length: partial[2] === undefined ? Number.MAX_SAFE_INTEGER : Number(partial[2]) };
    } else return null;
  }
  return out.uid === undefined ? null : (out as MessageUrl);
}

function splitParam(segment: string): [string, string] {
  const equals = segment.indexOf('=');
  return equals < 0 ? [segment.toUpperCase(), ''] : [segment.slice(0, equals).toUpperCase(), segment.slice(equals + 1)];
}

function numberParam(param: string, name: string): number | null {
  const [key, value] = splitParam(param);
  return key === name ? positive(value) : null;
}

function positive(value: string): number | null {
  if (!/^[1-9]\d{0,9}$/.test(value)) return null;
  const n = Number(value);
  return n <= 0xffffffff ? n : null;
}

function decodeMailbox(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}

/** `1.2`, `1.2.MIME`, `HEADER`, `TEXT`, `2.HEADER`: part numbers, then at most one text. */
function parseSection(value: string): SectionSpec | null {
  const tokens = value.toUpperCase().split('.');
  const part: number[] = [];
  while (tokens.length > 0 && /^[1-9]\d{0,8}$/.test(tokens[0]!)) part.push(Number(tokens.shift()));
  if (tokens.length === 0) return { part };
  if (tokens.length > 1 || !SECTION_TEXTS.has(tokens[0] as SectionText)) return null;
  const text = tokens[0] as SectionText;
  if (text === 'MIME' && part.length === 0) return null;
  return { part, text };
}
