// POP3 responses rendered to wire bytes: status lines with RFC 2449 response
// codes, multi-line responses with dot-stuffing, and the CAPA list. Pure.

/** Response codes from RFC 2449 (IN-USE, LOGIN-DELAY) and RFC 3206 (SYS/*, AUTH). */
export type ResponseCode = 'AUTH' | 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM';

export type Pop3Response =
  | { status: 'ok'; text: string; lines?: string[] }
  | { status: 'err'; text: string; code?: ResponseCode };

export function ok(text: string, lines?: string[]): Pop3Response {
  return lines === undefined ? { status: 'ok', text } : { status: 'ok', text, lines };
}

export function err(text: string, code?: ResponseCode): Pop3Response {
  return code === undefined ? { status: 'err', text } : { status: 'err', text, code };
}

/** The bytes of a whole response, including the terminating "." of a multi-line one. */
export function renderResponse(response: Pop3Response): string {
  if (response.status === 'err') {
    const code = response.code === undefined ? '' : `[${response.code}] `;
    return `-ERR ${code}${singleLine(response.text)}\r\n`;
  }
  const status = `+OK${response.text.length > 0 ? ' ' + singleLine(response.text) : ''}\r\n`;
  if (response.lines === undefined) return status;
  const body = response.lines.map((line) => `${dotStuffLine(singleLine(line))}\r\n`).join('');
  return `${status}${body}.\r\n`;
}

/** The SASL continuation prompt (RFC 5034): "+ " and a base64 challenge, empty for PLAIN. */
export function renderContinuation(challenge = ''): string {
  return `+ ${challenge}\r\n`;
}

export interface CapabilityOptions {
  /** USER/PASS and SASL PLAIN may be used on this connection now. */
  plaintextAuthAllowed: boolean;
  /** STLS can be offered: TLS is configured and not yet active. */
  stlsAvailable: boolean;
  implementation: string;
}

/** The CAPA list (RFC 2449 §6); AUTH-RESP-CODE is from RFC 3206. */
export function capabilities(options: CapabilityOptions): string[] {
  const lines = ['TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE'];
  if (options.plaintextAuthAllowed) lines.push('USER', 'SASL PLAIN');
  if (options.stlsAvailable) lines.push('STLS');
  lines.push(`IMPLEMENTATION ${options.implementation}`);
  return lines;
}

function dotStuffLine(line: string): string {
  return line.startsWith('.') ? `.${line}` : line;
}

/** Response text must never break the line structure of the protocol. */
function singleLine(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}
