// A config file written before sections still starts the server, and the log says once
// per old key what to write instead.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/server.js';
import { startProcess, type ServerProcess } from '../support/process.js';

let server: ServerProcess | undefined;
const data = tempDir();

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  rmSync(data, { recursive: true, force: true });
});

describe('old flat config keys at start', () => {
  it('logs one deprecation line per flat key and uses its value', async () => {
    const file = path.join(data, 'ternmail.json');
    writeFileSync(file, JSON.stringify({ maxRecipients: 3, hostname: 'old.example', smtp: { maxLineLength: 2000 } }));
    server = await startProcess(data, ['--config', file]);
    const lines = server.output().split('\n').filter((line) => line.includes('is deprecated'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('config key maxRecipients is deprecated: use smtp.maxRecipients');
    expect(lines[1]).toContain('config key hostname is deprecated: use server.hostname');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
