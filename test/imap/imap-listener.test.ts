// The IMAP listener itself: the per-address connection limit, and shutdown saying
// `* BYE server shutting down` to every open session.
import { describe, expect, it } from 'vitest';
import { LineClient } from '../support/clients.js';
import { provision, startTestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';

describe('IMAP listener', () => {
  it('refuses connections beyond the per-address limit with BYE', async () => {
    const server = await startTestServer({ maxConnectionsPerIp: 2 });
    try {
      const first = await RawImap.open(server);
      const second = await RawImap.open(server);
      const third = await LineClient.connect(server.ports.imap);
      await third.expect(/\* BYE Too many connections[^\r]*\r\n/);
      await third.waitClosed();
      first.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const fourth = await RawImap.open(server);
      expect(await fourth.run('NOOP')).toMatch(/OK/);
      second.close();
      fourth.close();
    } finally {
      await server.destroy();
    }
  });

  it('says BYE to open sessions when the server stops', async () => {
    const server = await startTestServer();
    await provision(server, 'bye.test', ['lee']);
    const idle = await RawImap.open(server, 'lee@bye.test');
    await idle.run('SELECT INBOX');
    const stopping = server.destroy();
    await idle.line.expect(/\* BYE server shutting down\r\n/);
    await idle.line.waitClosed();
    await stopping;
  });
});
