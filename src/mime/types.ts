// The stored analysis of one message: its MIME tree with exact byte offsets,
// the raw ENVELOPE fields, and an index of the top-level header fields.
// Plain data only (msgpackr-safe). Header-derived strings are byte strings:
// one JS character per octet (latin1), so 8-bit headers survive unchanged.

/** How the part's body is structured, as the IMAP renderer needs to know. */
export type PartKind = 'multipart' | 'message' | 'text' | 'basic';

/** One address of an ENVELOPE list; group start/end markers use null fields (RFC 3501 §7.4.2). */
export interface EnvelopeAddress {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  domain: string | null;
}

/** ENVELOPE fields; strings are unfolded raw header values (byte strings). */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** A MIME parameter list as alternating name, value entries. */
export type ParamList = string[];

export interface Disposition {
  value: string;
  params: ParamList;
}

export interface MimePart {
  /** IMAP part number ("1.2"); "" for the message itself and for an encapsulated message. */
  path: string;
  kind: PartKind;
  /** Offsets into the raw message: [headerStart, bodyStart) header, [bodyStart, bodyEnd) body. */
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  /** Body line count (LF count); kept for text and message parts, 0 otherwise. */
  lines: number;
  /** Content-Type; null when absent (or discarded because the part is not MIME), "" when unparsable. */
  type: string | null;
  subtype: string | null;
  params: ParamList | null;
  id: string | null;
  description: string | null;
  encoding: string | null;
  md5: string | null;
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
  boundary: string | null;
  /** Multipart children, or the single encapsulated message of a message/rfc822 part. */
  children: MimePart[];
  /** For an encapsulated message (child of a message/rfc822 part): its ENVELOPE. */
  envelope: Envelope | null;
}

/** One top-level header field: [start, end) covers the full field including its line end(s). */
export interface HeaderField {
  /** Field name lower-cased, for lookups. */
  name: string;
  start: number;
  end: number;
  /** Offset of the first value octet (after the colon). */
  valueStart: number;
}

export interface MessageStructure {
  version: 1;
  size: number;
  root: MimePart;
  envelope: Envelope;
  headers: HeaderField[];
  /** Set when a MimeLimits cap was passed: the root is one opaque part covering the whole body. */
  limited?: MimeLimitName;
}

/** Caps on hostile MIME: past one, the body is kept whole and its structure is one opaque part. */
export interface MimeLimits {
  /** Parts (entities) in the whole tree, the message itself included. */
  maxParts: number;
  /** Multipart / message nesting. */
  maxDepth: number;
  /** Header fields of any one part. */
  maxHeaders: number;
}

/** 'work': boundary matching grew out of proportion to the message's size (see analyze.ts). */
export type MimeLimitName = 'parts' | 'depth' | 'headers' | 'work';

export const defaultMimeLimits: MimeLimits = { maxParts: 1000, maxDepth: 32, maxHeaders: 1000 };
