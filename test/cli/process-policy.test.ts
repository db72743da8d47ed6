// The process-wide error policy, on the real `ternmail start` process: an unhandled
// rejection is logged with its stack and the server keeps serving; an uncaught
// exception is logged and the process exits non-zero. The faults are injected by a
// preloaded module (NODE_OPTIONS=--import) on SIGUSR2, outside the server's code.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { greetedClient, messageOfSize, transaction } from '../support/smtp-transcript.js';
import { startProcess, type ServerProcess } from '../support/process.js';
import { tempDir, waitFor } from '../support/server.js';

const injector = `
process.on('SIGUSR2', () => {
  if (process.env.INJECT === 'rejection') Promise.reject(new Error('injected-rejection-7f3a'));
  else setImmediate(() => { throw new Error('injected-exception-7f3a'); });
});
`;

let running: ServerProcess | null = null;

afterEach(() => {
  running?.child.kill('SIGKILL');
  running = null;
});

async function startWithInjector(kind: 'rejection' | 'exception'): Promise<ServerProcess> {
  const dir = tempDir();
  const preload = path.join(dir, 'inject.mjs');
  writeFileSync(preload, injector);
  const data = path.join(dir, 'data');
  running = await startProcess(data, [], { NODE_OPTIONS: `--import=${preload}`, INJECT: kind });
  return running;
}

describe('process error policy', () => {
  it('logs an unhandled rejection with its stack and keeps serving', async () => {
    const server = await startWithInjector('rejection');
    server.child.kill('SIGUSR2');
    await waitFor(async () => /unhandled promise rejection/.test(server.output()), 10_000, 'the rejection logged');
    expect(server.output()).toMatch(/injected-rejection-7f3a/);
    expect(server.output()).toMatch(/"stack":"Error: injected-rejection-7f3a\\n\s+at /);
    expect(server.child.exitCode).toBeNull();
    const client = await greetedClient(server.ports.smtp);
    const replies = await transaction(client, 'x@remote.test', 'nobody@nowhere.test', messageOfSize(100));
    expect(replies.rcptTo).toMatch(/^554 /);
    client.send('NOOP\r\n');
    await client.expect(/^250 [^\r\n]*\r\n/m);
    client.close();
  });

  it('logs an uncaught exception as fatal and exits non-zero', async () => {
    const server = await startWithInjector('exception');
    server.child.kill('SIGUSR2');
    const code = await server.exited;
    expect(code).toBe(70);
    expect(server.output()).toMatch(/"level":60[^\n]*uncaught exception/);
    expect(server.output()).toMatch(/injected-exception-7f3a/);
  });
});
