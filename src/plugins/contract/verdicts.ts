// What a hook may answer. Returning nothing continues. A refusal names its SMTP code
// and text (defaults: 550 / 451 with a generic text); the other verdicts exist only at
// the hooks that can honour them, which the per-hook types below spell out.
import type { HeaderField } from './events.js';

export interface ReplyText {
  /** SMTP code: 5xx for reject (default 550), 4xx for tempfail (default 451). */
  code?: number;
  /** Text after the code, e.g. "5.7.1 Greylisted". */
  text?: string;
}

export type Continue = undefined | void;
export type Reject = { reject: ReplyText };
export type Tempfail = { tempfail: ReplyText };
export type Gate = Continue | Reject | Tempfail;
export type AddHeaders = { addHeaders: HeaderField[] };
/** At beforeDelivery: any of folder/flags together, or discard, or redirect. */
export type Placement = { folder?: string; flags?: string[] };
export type Discard = { discard: true };
export type Redirect = { redirect: string[] };
/** At beforeSend: the envelope sender (MAIL FROM) of this transaction instead of the message's. */
export type EnvelopeFrom = { mailFrom: string };

/** The verdicts each hook may return. */
export interface HookVerdicts {
  connect: Gate;
  helo: Gate;
  auth: Gate;
  mailFrom: Gate;
  /** redirect only for an unknown recipient (event.unknown). */
  rcptTo: Gate | Redirect;
  data: Gate | AddHeaders;
  queued: Continue;
  beforeDelivery: Gate | Placement | Discard | Redirect;
  delivered: Continue;
  beforeSend: Gate | AddHeaders | EnvelopeFrom | (AddHeaders & EnvelopeFrom);
  bounce: Continue;
  mailboxEvent: Continue;
}
