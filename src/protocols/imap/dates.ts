// IMAP dates (RFC 3501 §9 "date", "date-time"): parse the SEARCH date and the
// APPEND date-time strictly, and format INTERNALDATE as
// `17-Jul-1996 02:44:25 -0700`.

import type { ImapDate, ImapDateTime } from './types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function monthFromName(name: string): number | null {
  const index = MONTHS.findIndex((month) => month.toLowerCase() === name.toLowerCase());
  return index < 0 ? null : index + 1;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validDate(date: ImapDate): ImapDate | null {
  if (date.year < 1 || date.day < 1 || date.day > daysInMonth(date.year, date.month)) return null;
  return date;
}

/** `1-Feb-1994` (day 1 or 2 digits); null when invalid. */
export function parseDate(text: string): ImapDate | null {
  const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!match) return null;
  const month = monthFromName(match[2]!);
  if (month === null) return null;
  return validDate({ year: Number(match[3]), month, day: Number(match[1]) });
}

/** `17-Jul-1996 02:44:25 -0700` (day space-padded or 2 digits); null when invalid. */
export function parseDateTime(text: string): ImapDateTime | null {
  const match = /^([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(text);
  if (!match) return null;
  const month = monthFromName(match[2]!);
  if (month === null) return null;
  const date = validDate({ year: Number(match[3]), month, day: Number(match[1]!.trim()) });
  if (date === null) return null;
  const [hour, minute, second] = [Number(match[4]), Number(match[5]), Number(match[6])];
  const zoneHours = Number(match[8]);
  const zoneMins = Number(match[9]);
  if (hour > 23 || minute > 59 || second > 60 || zoneMins > 59) return null;
  const zoneMinutes = (match[7] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMins);
  return { ...date, hour, minute, second, zoneMinutes };
}

/** The instant an APPEND date-time denotes. */
export function dateTimeToDate(value: ImapDateTime): Date {
  const utc = Date.UTC(value.year, value.month - 1, value.day, value.hour, value.minute, value.second);
  return new Date(utc - value.zoneMinutes * 60_000);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** `17-Jul-1996 02:44:25 -0700`: the instant shown in the zone `zoneMinutes` east of UTC. */
export function formatDateTime(date: Date, zoneMinutes = 0): string {
  const local = new Date(date.getTime() + zoneMinutes * 60_000);
  const sign = zoneMinutes < 0 ? '-' : '+';
  const zone = Math.abs(zoneMinutes);
  const day = String(local.getUTCDate()).padStart(2, ' ');
  return (
    `${day}-${MONTHS[local.getUTCMonth()]}-${pad(local.getUTCFullYear(), 4)} ` +
    `${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)} ` +
    `${sign}${pad(Math.floor(zone / 60), 2)}${pad(zone % 60, 2)}`
  );
}
