// The port the services call at each hook point (src/smtp, src/queue, src/outbound,
// src/mailbox, the logins): the verdicts of every configured plugin already merged into
// one outcome. With no plugin for a hook its switch in `on` is false and a call site
// does nothing else: no allocation, no await, no actor hop (NO_HOOKS).
import type { HeaderField, HookEvents, HookName } from './events.js';

/** A refusal for the client: `code` 4xx (temporary) or 5xx. */
export interface Refusal { code: number; text: string; temporary: boolean }

export type GateHook = 'connect' | 'helo' | 'auth' | 'mailFrom' | 'rcptTo';
export type ObserverHook = 'queued' | 'delivered' | 'bounce' | 'mailboxEvent';

/** data and beforeSend: refused, or headers to add on top of the message (possibly none); at beforeSend maybe another MAIL FROM. */
export type HeaderOutcome = { refusal: Refusal } | { refusal: null; addHeaders: HeaderField[]; mailFrom?: string };

/** beforeDelivery, merged over the plugins. */
export type DeliveryOutcome =
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'discard'; by: string }
  | { kind: 'redirect'; to: string[]; by: string }
  | { kind: 'store'; folder?: string; flags?: string[] };

export interface PipelineHooks {
  /** True for each hook at least one plugin has. */
  readonly on: Readonly<Record<HookName, boolean>>;
  gate<H extends GateHook>(hook: H, event: HookEvents[H]): Promise<Refusal | null>;
  /** rcptTo for a recipient ternmail does not know: the addresses a plugin redirects it to, or null. */
  unknownRecipient(event: HookEvents['rcptTo']): Promise<string[] | null>;
  data(event: HookEvents['data']): Promise<HeaderOutcome>;
  beforeSend(event: HookEvents['beforeSend']): Promise<HeaderOutcome>;
  beforeDelivery(event: HookEvents['beforeDelivery']): Promise<DeliveryOutcome>;
  /** Fire and forget: observers cannot change anything, and nobody waits for them. */
  observe<H extends ObserverHook>(hook: H, event: HookEvents[H]): void;
}

const allOff: Record<HookName, boolean> = {
  connect: false, helo: false, auth: false, mailFrom: false, rcptTo: false, data: false, queued: false,
  beforeDelivery: false, delivered: false, beforeSend: false, bounce: false, mailboxEvent: false,
};

/** No plugins: every switch off; the methods are never called. */
export const NO_HOOKS: PipelineHooks = {
  on: allOff,
  gate: async () => null,
  unknownRecipient: async () => null,
  data: async () => ({ refusal: null, addHeaders: [] }),
  beforeSend: async () => ({ refusal: null, addHeaders: [] }),
  beforeDelivery: async () => ({ kind: 'store' }),
  observe: () => undefined,
};

/** Header fields as bytes to put on top of a message: names and values checked for CR/LF injection by the caller. */
export function headerBlock(fields: readonly HeaderField[]): Buffer {
  return Buffer.from(fields.map(([name, value]) => `${name}: ${value}\r\n`).join(''), 'utf8');
}
