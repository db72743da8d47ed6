// The moment a Date header names, for SORT (DATE) and THREAD's ordering (RFC 5256 §2.2:
// the sent date in UTC). Lenient like the rest of the header parsing: comments, a
// missing weekday or seconds, two-digit years and the RFC 5322 obsolete zone names.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Obsolete zone names (RFC 5322 §4.3), in minutes east of UTC; military letters count as UTC. */
const ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
};

/** Milliseconds since the epoch, or null when the value is not a date-time. */
export function sentDateMs(value: string): number | null {
  const tokens = value.replace(/\([^)]*\)/g, ' ').split(/[\s,]+/).filter(Boolean);
  let i = 0;
  if (tokens[i] !== undefined && /^[a-z]+$/i.test(tokens[i]!)) i++;
  const day = Number(tokens[i++]);
  const month = MONTHS.indexOf((tokens[i++] ?? '').slice(0, 3).toLowerCase());
  const yearToken = tokens[i++] ?? '';
  const time = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$/.exec(tokens[i++] ?? '');
  if (!Number.isInteger(day) || day < 1 || day > 31 || month < 0 || !/^\d{2,4}$/.test(yearToken) || time === null) return null;
  const year = yearToken.length > 2 ? Number(yearToken) : Number(yearToken) < 50 ? 2000 + Number(yearToken) : 1900 + Number(yearToken);
  const [hour, minute, second] = [Number(time[1]), Number(time[2]), Number(time[3] ?? 0)];
  if (hour > 23 || minute > 59 || second > 60) return null;
  const local = Date.UTC(year, month, day, hour, minute, second);
  return local - zoneMinutes(tokens[i]) * 60_000;
}

function zoneMinutes(token: string | undefined): number {
  if (token === undefined) return 0;
  const numeric = /^([+-])(\d{2})(\d{2})$/.exec(token);
  if (numeric !== null) return (numeric[1] === '-' ? -1 : 1) * (Number(numeric[2]) * 60 + Number(numeric[3]));
  return ZONES[token.toLowerCase()] ?? 0;
}
