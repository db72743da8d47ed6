// `--log-format pretty`: pino's JSON lines turned into one readable line each,
// `2026-12-03T12:00:00.000Z INFO  smtp transaction client=127.0.0.1 result=queued`,
// for an operator at a terminal. Machines should read the JSON format.
import { Writable } from 'node:stream';

interface LineSink {
  write(text: string): unknown;
}

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields every line has, shown in front rather than as key=value. */
const leading = new Set(['time', 'level', 'msg', 'pid', 'hostname']);

export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = levelNames[Number(entry.level)] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key]) => !leading.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return [String(entry.time ?? ''), level.padEnd(5), String(entry.msg ?? ''), ...fields].join(' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object') {
    const err = value as { message?: unknown; type?: unknown };
    if (typeof err.message === 'string' && typeof err.type === 'string') return JSON.stringify(`${err.type}: ${err.message}`);
    return JSON.stringify(value);
  }
  return String(value);
}

/** A stream for pino that writes each JSON line to `sink` as a readable line. */
export function prettyStream(sink: LineSink): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) sink.write(prettyLine(line) + '\n');
      done();
    },
  });
}
