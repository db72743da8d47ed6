// Output batching for every listener: what a connection writes while handling one
// event (a command's responses, a message and its terminator) is held until the
// event loop is idle and leaves in one send instead of one system call per write.
import type { Writable } from 'node:stream';

const held = new WeakSet<Writable>();

/** Corks `stream` until the event loop is idle, unless it already is corked that way. */
export function holdWritesUntilIdle(stream: Writable): void {
  if (held.has(stream) || stream.destroyed) return;
  held.add(stream);
  stream.cork();
  setImmediate(() => {
    held.delete(stream);
    stream.uncork();
  });
}
