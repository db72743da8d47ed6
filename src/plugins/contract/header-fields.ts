// The header section of a message as [name, value] pairs, for hook events. Reads at
// most HEADER_LIMIT bytes and lists at most MAX_FIELDS fields: a hostile header costs
// bounded memory. Also checks the fields a plugin asks to add (no header injection).
import { scanHeader, unfoldedValue } from '../../mime/header-block.js';
import type { HeaderField } from './events.js';

export const HEADER_LIMIT = 128 * 1024;
const MAX_FIELDS = 1000;

export function headerFieldsOf(prefix: Buffer): HeaderField[] {
  const scan = scanHeader(prefix, 0, Math.min(prefix.length, HEADER_LIMIT), undefined, MAX_FIELDS);
  return scan.fields.map((field) => [field.name, unfoldedValue(prefix, field)]);
}

/** The first HEADER_LIMIT bytes of a body (or all of it), then its header fields. */
export async function readHeaderFields(body: AsyncIterable<Buffer>): Promise<HeaderField[]> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= HEADER_LIMIT) break;
  }
  return headerFieldsOf(Buffer.concat(parts));
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;
/** A value may be folded (CRLF then a blank) but hold no other line end. */
const FIELD_VALUE = /^(?:[^\r\n]|\r\n[ \t])*$/;

/** Why a field a plugin wants to add is refused, or null. */
export function headerFieldProblem(field: unknown): string | null {
  if (!Array.isArray(field) || field.length !== 2) return 'not a [name, value] pair';
  const [name, value] = field as unknown[];
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) return `bad field name ${JSON.stringify(name)}`;
  if (typeof value !== 'string' || !FIELD_VALUE.test(value) || value.length > 16 * 1024) return `bad value for ${name}`;
  return null;
}
