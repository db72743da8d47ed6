// The NATS side of a node of a cluster of machines: one connection to the NATS
// servers (any of them; it reconnects to another when one goes, forever), and the
// KV buckets it needs, created on first use with as many replicas as servers were
// given (at most 3), so a bucket survives the loss of one of three servers.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from '../core/logger.js';

const BUCKET_RETRY_MS = 500;
const BUCKET_DEADLINE_MS = 60_000;

export function natsServersOf(setting: string): string[] {
  return setting.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export async function connectToNats(servers: string[], nodeId: number, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers, name: `ternmail-node-${nodeId}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true,
    // A frozen or cut-off node notices within seconds, not the default minutes.
    pingInterval: 5_000, maxPingOut: 2,
  });
  log.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') log.warn({ server: 'server' in status ? status.server : undefined }, `NATS ${status.type}`);
    }
  })();
  return nc;
}

/**
 * Opens (creating if needed) a KV bucket keeping one value per key. JetStream may
 * still be electing its leaders right after the servers start: retried for a minute.
 */
export async function openBucket(nc: NatsConnection, name: string, replicas: number, log: Logger): Promise<KV> {
  const kvm = new Kvm(nc);
  const deadline = Date.now() + BUCKET_DEADLINE_MS;
  for (;;) {
    try {
      return await kvm.create(name, { replicas, history: 1 });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`cannot open KV bucket ${name}: ${(err as Error).message}`);
      log.debug({ err, bucket: name }, 'KV bucket not ready; retrying');
      await new Promise((r) => setTimeout(r, BUCKET_RETRY_MS));
    }
  }
}
