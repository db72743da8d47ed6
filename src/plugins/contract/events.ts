// What a plugin hook is given, one type per hook, in pipeline order. These are the
// public types of `ternmail/plugin`: a plugin author reads them, the services build
// them. Bodies are never handed over whole: a hook that needs the bytes reads them
// through `body()`, so a plugin that only looks at the envelope costs no copy.

/** The SMTP connection a hook runs for. */
export interface SmtpSessionInfo {
  /** smtp-server's session id (also in the log lines of the session). */
  id: string;
  /** The client's IP address. */
  client: string;
  /** Which listener accepted it. */
  listener: 'mx' | 'submission' | 'smtps';
  /** The HELO/EHLO name, once given ('' before). */
  helo: string;
  /** The authenticated user (submission), or null. */
  user: string | null;
  /** True on TLS (STARTTLS or implicit). */
  secure: boolean;
}

/** A header field as [name, value]: the name as written, the value unfolded. */
export type HeaderField = [name: string, value: string];

export interface ConnectEvent { session: SmtpSessionInfo }
export interface HeloEvent { session: SmtpSessionInfo; helo: string }
/** After a successful login, in any protocol. */
export interface AuthEvent { protocol: 'smtp' | 'imap' | 'pop3'; user: string; client: string }
export interface MailFromEvent { session: SmtpSessionInfo; from: string }
/**
 * `unknown`: ternmail knows no such user or alias in this local domain and would answer
 * 550; a `redirect` verdict accepts the recipient for other addresses (SRS bounces).
 */
export interface RcptToEvent { session: SmtpSessionInfo; from: string; to: string; unknown: boolean }

/** The message at the end of DATA, before it is queued (nothing is acknowledged yet). */
export interface DataEvent {
  session: SmtpSessionInfo;
  from: string;
  recipients: string[];
  /** The header section as received, our own Received: field first. */
  headers: HeaderField[];
  /** Bytes, our Received: field included. */
  size: number;
  /** The whole message, as stored (may be read more than once). */
  body(): AsyncIterable<Buffer>;
}

/** The message is on disk and the client got its 250. */
export interface QueuedEvent { queueId: string; from: string; recipients: string[]; size: number; client: string }

/** One local recipient, before its copy is stored. */
export interface BeforeDeliveryEvent {
  queueId: string;
  from: string;
  /** The mailbox address the copy goes to (after alias expansion). */
  recipient: string;
  size: number;
  /** The header section of the stored message. */
  headers(): Promise<HeaderField[]>;
  body(): AsyncIterable<Buffer>;
}

/** One copy stored in a mailbox. */
export interface DeliveredEvent {
  queueId: string;
  from: string;
  recipient: string;
  folder: string;
  uid: number;
  size: number;
  messageId: string | null;
}

/** One outbound transaction (one destination domain), before it is sent. */
export interface BeforeSendEvent {
  queueId: string;
  from: string;
  recipients: string[];
  domain: string;
  size: number;
  headers(): Promise<HeaderField[]>;
  body(): AsyncIterable<Buffer>;
}

/** A delivery status notification was queued for the sender (never for the null sender). */
export interface BounceEvent {
  queueId: string;
  /** The original sender, who receives the DSN. */
  to: string;
  kind: 'failure' | 'delay';
  recipients: Array<{ address: string; diagnostic: string }>;
}

/** A change in a mailbox, after it is committed. */
export interface MailboxEventEvent {
  /** The mailbox id (one per user). */
  mailbox: string;
  kind: 'append' | 'expunge' | 'flags' | 'folder-create' | 'folder-delete' | 'folder-rename';
  folder: string;
  /** append, expunge, flags: the UIDs concerned. */
  uids?: number[];
  /** folder-rename: the new name. */
  to?: string;
}

/** Every hook with its event. */
export interface HookEvents {
  connect: ConnectEvent;
  helo: HeloEvent;
  auth: AuthEvent;
  mailFrom: MailFromEvent;
  rcptTo: RcptToEvent;
  data: DataEvent;
  queued: QueuedEvent;
  beforeDelivery: BeforeDeliveryEvent;
  delivered: DeliveredEvent;
  beforeSend: BeforeSendEvent;
  bounce: BounceEvent;
  mailboxEvent: MailboxEventEvent;
}

export type HookName = keyof HookEvents;

/** The hooks in pipeline order. */
export const HOOK_NAMES: readonly HookName[] = [
  'connect', 'helo', 'auth', 'mailFrom', 'rcptTo', 'data', 'queued', 'beforeDelivery', 'delivered', 'beforeSend', 'bounce', 'mailboxEvent',
];
