// Per-protocol connection caps in `ternmail start --workers 2`: the kernel hands
// connections to the workers in turn, so each worker enforces its share of a cap and
// the cluster as a whole never holds more connections than the setting allows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';
import { LineClient } from '../support/clients.js';

const cluster = new TestCluster();

beforeAll(async () => {
  await cluster.start({ workers: 2, env: { TERNMAIL_IMAP_MAX_CONNECTIONS: '2' } });
}, 60_000);

afterAll(async () => cluster.destroy());

describe('connection caps across workers', () => {
  it('holds no more IMAP connections in the whole cluster than imapMaxConnections', async () => {
    const clients: LineClient[] = [];
    const greetings: string[] = [];
    for (let i = 0; i < 6; i++) {
      const client = await LineClient.connect(cluster.ports!.imap);
      clients.push(client);
      greetings.push(await client.expect(/\r\n/));
    }
    const accepted = greetings.filter((g) => g.startsWith('* OK')).length;
    const refused = greetings.filter((g) => g === '* BYE Too many connections\r\n').length;
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThanOrEqual(2);
    expect(accepted + refused).toBe(6);
    for (const client of clients) client.socket.destroy();
  });
});
