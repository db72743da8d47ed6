// Counts what the server hands the kernel: the sends (`_write`/`_writev` calls) of chosen
// sockets of this process, for the tests that check answers leave together (one send per
// turn, per FETCH of many messages, per POP3 answer) rather than counting the client's
// reads, which arrive in one piece either way.
import { Socket } from 'node:net';

/** Counts the sends (`_write`/`_writev` calls) of the sockets `which` picks until `stop()`. */
export function countSends(which: (socket: Socket) => boolean): { stop(): number } {
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  const originals = { _write: proto._write, _writev: proto._writev };
  let count = 0;
  for (const name of ['_write', '_writev'] as const) {
    proto[name] = function (this: Socket, ...args: unknown[]) {
      if (which(this)) count++;
      return originals[name].apply(this, args);
    };
  }
  return {
    stop() {
      proto._write = originals._write;
      proto._writev = originals._writev;
      return count;
    },
  };
}
