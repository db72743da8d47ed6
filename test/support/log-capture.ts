// Test support: a pino logger whose lines are kept as parsed objects, for tests that
// assert what the server logs (a lockout warned once, an actor stopped after its limit).
import { Writable } from 'node:stream';
import { pino } from 'pino';

export function capturingLogger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}
