// POP3 command lines (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH, RFC 2595 STLS)
// parsed into typed values. Pure: no I/O, no session state; range checks that
// need the maildrop happen in the session.

export type Pop3Command =
  | { name: 'USER'; user: string }
  | { name: 'PASS'; password: string }
  | { name: 'APOP' }
  | { name: 'AUTH'; mechanism?: string; initialResponse?: string }
  | { name: 'STLS' }
  | { name: 'CAPA' }
  | { name: 'STAT' }
  | { name: 'LIST'; message?: number }
  | { name: 'RETR'; message: number }
  | { name: 'DELE'; message: number }
  | { name: 'NOOP' }
  | { name: 'RSET' }
  | { name: 'TOP'; message: number; lines: number }
  | { name: 'UIDL'; message?: number }
  | { name: 'QUIT' };

export type Pop3CommandName = Pop3Command['name'];

export type ParseResult = { ok: true; command: Pop3Command } | { ok: false; error: string };

/** Longest decimal argument we accept; keeps numbers exact as JS numbers. */
const MAX_NUMBER_DIGITS = 15;

type ArgumentParser = (args: string[], rest: string) => ParseResult;

const PARSERS: Record<Pop3CommandName, ArgumentParser> = {
  USER: (args, rest) => (args.length === 0 ? fail('USER needs a user name') : ok({ name: 'USER', user: rest })),
  PASS: (args, rest) => (args.length === 0 ? fail('PASS needs a password') : ok({ name: 'PASS', password: rest })),
  APOP: () => ok({ name: 'APOP' }),
  AUTH: parseAuth,
  STLS: (args) => noArguments('STLS', args),
  CAPA: (args) => noArguments('CAPA', args),
  STAT: (args) => noArguments('STAT', args),
  NOOP: (args) => noArguments('NOOP', args),
  RSET: (args) => noArguments('RSET', args),
  QUIT: (args) => noArguments('QUIT', args),
  LIST: (args) => optionalMessage('LIST', args),
  UIDL: (args) => optionalMessage('UIDL', args),
  RETR: (args) => requiredMessage('RETR', args),
  DELE: (args) => requiredMessage('DELE', args),
  TOP: parseTop,
};

/** Parses one command line (without its CRLF). Command names are case-insensitive. */
export function parseCommand(line: string): ParseResult {
  const trimmed = withoutTrailingBlanks(line);
  if (trimmed.length === 0) return fail('empty command');
  const space = trimmed.indexOf(' ');
  const keyword = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase();
  const rest = space === -1 ? '' : trimmed.slice(space + 1);
  if (!isCommandName(keyword)) return fail('unknown command');
  const args = rest.split(' ').filter((arg) => arg.length > 0);
  return PARSERS[keyword](args, rest);
}

function isCommandName(keyword: string): keyword is Pop3CommandName {
  return Object.prototype.hasOwnProperty.call(PARSERS, keyword);
}

function parseAuth(args: string[]): ParseResult {
  if (args.length > 2) return fail('AUTH takes a mechanism and an optional initial response');
  if (args.length === 0) return ok({ name: 'AUTH' });
  const mechanism = args[0]!.toUpperCase();
  if (args.length === 1) return ok({ name: 'AUTH', mechanism });
  return ok({ name: 'AUTH', mechanism, initialResponse: args[1]! });
}

function parseTop(args: string[]): ParseResult {
  if (args.length !== 2) return fail('TOP needs a message number and a line count');
  const message = parseMessageNumber(args[0]!);
  if (typeof message === 'string') return fail(message);
  const lines = parseDecimal(args[1]!);
  if (lines === undefined) return fail(`invalid line count "${printable(args[1]!)}"`);
  return ok({ name: 'TOP', message, lines });
}

function noArguments(name: 'STLS' | 'CAPA' | 'STAT' | 'NOOP' | 'RSET' | 'QUIT', args: string[]): ParseResult {
  if (args.length > 0) return fail(`${name} takes no arguments`);
  return ok({ name });
}

function optionalMessage(name: 'LIST' | 'UIDL', args: string[]): ParseResult {
  if (args.length > 1) return fail(`${name} takes at most one message number`);
  if (args.length === 0) return ok({ name });
  const message = parseMessageNumber(args[0]!);
  if (typeof message === 'string') return fail(message);
  return ok({ name, message });
}

function requiredMessage(name: 'RETR' | 'DELE', args: string[]): ParseResult {
  if (args.length !== 1) return fail(`${name} needs exactly one message number`);
  const message = parseMessageNumber(args[0]!);
  if (typeof message === 'string') return fail(message);
  return ok({ name, message });
}

/** A message number, or the error text when the argument is not one. */
function parseMessageNumber(arg: string): number | string {
  const value = parseDecimal(arg);
  if (value === undefined) return `invalid message number "${printable(arg)}"`;
  if (value === 0) return 'message numbers start at 1';
  return value;
}

/** Digits only; leading zeros do not count towards the length limit. */
function parseDecimal(arg: string): number | undefined {
  if (arg.length === 0) return undefined;
  let firstSignificant = -1;
  for (let i = 0; i < arg.length; i++) {
    const code = arg.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return undefined;
    if (firstSignificant === -1 && code !== 0x30) firstSignificant = i;
  }
  if (firstSignificant === -1) return 0;
  if (arg.length - firstSignificant > MAX_NUMBER_DIGITS) return undefined;
  return Number(arg.slice(firstSignificant));
}

/** The line without the spaces and tabs at its end (a loop: this runs for every command). */
function withoutTrailingBlanks(line: string): string {
  let end = line.length;
  while (end > 0) {
    const code = line.charCodeAt(end - 1);
    if (code !== 0x20 && code !== 0x09) break;
    end -= 1;
  }
  return end === line.length ? line : line.slice(0, end);
}

/** Client text echoed in an error, cut short and limited to printable ASCII. */
function printable(text: string): string {
  const visible = text.replace(/[^\x20-\x7e]/g, '?');
  return visible.length > 40 ? `${visible.slice(0, 40)}...` : visible;
}

function ok(command: Pop3Command): ParseResult {
  return { ok: true, command };
}

function fail(error: string): ParseResult {
  return { ok: false, error };
}
