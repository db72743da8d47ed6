// The NATS side of a node of a cluster of machines: one connection to the NATS
// servers (any of them; it reconnects to another when one goes, forever), and the
// KV buckets it needs, created on first use with as many replicas as servers were
// given (at most 3), so a bucket survives the loss of one of three servers.
// Credentials (user and password, token, NKey seed or creds file) and TLS (CA, client
// certificate) come from the cluster settings; a user:password@ or token@ in a server
// URL counts as the settings would, and tls:// asks for TLS.
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { connect, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection, type TlsOptions } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from '../core/logger.js';
import type { ClusterSettings } from './settings.js';

const BUCKET_RETRY_MS = 500;
const BUCKET_DEADLINE_MS = 60_000;

export function natsServersOf(setting: string): string[] {
  return setting.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** How a node authenticates to NATS and secures the connection: the client's options besides the servers. */
export type NatsSecurity = Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;

type NatsSecuritySettings = Pick<ClusterSettings, 'natsUser' | 'natsPassword' | 'natsToken' | 'natsCreds' | 'natsNkey' | 'natsCa' | 'natsCert' | 'natsKey'>;

/**
 * The servers without their credentials (never logged), and the security options from
 * the settings and, where a setting is empty, from the first URL carrying credentials.
 */
export function natsConnectionOf(setting: string, settings: NatsSecuritySettings): { servers: string[]; security: NatsSecurity } {
  let user = settings.natsUser;
  let pass = settings.natsPassword;
  let token = settings.natsToken;
  let wantsTls = false;
  const hosts: string[] = [];
  const servers = natsServersOf(setting).map((server) => {
    const url = new URL(server.includes('://') ? server : `nats://${server}`);
    if (url.protocol === 'tls:') wantsTls = true;
    const name = decodeURIComponent(url.username);
    const secret = decodeURIComponent(url.password);
    if (name !== '' && secret !== '' && user === '') [user, pass] = [name, secret];
    else if (name !== '' && secret === '' && token === '' && user === '') token = name;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    hosts.push(host);
    return `${host.includes(':') ? `[${host}]` : host}:${url.port || 4222}`;
  });
  const security: NatsSecurity = {};
  if (user !== '') Object.assign(security, { user, pass });
  else if (token !== '') security.token = token;
  if (settings.natsCreds !== '') security.authenticator = credsAuthenticator(readFileSync(settings.natsCreds));
  else if (settings.natsNkey !== '') security.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(settings.natsNkey, 'utf8').trim()));
  if (wantsTls || settings.natsCa !== '' || settings.natsCert !== '') {
    // The client names no host for a server given by IP address (it checks "localhost"):
    // a certificate is good when it names one of the servers as configured.
    const identity = (_name: string, cert: PeerCertificate) => (hosts.some((h) => checkServerIdentity(h, cert) === undefined) ? undefined : checkServerIdentity(hosts[0]!, cert));
    const tls = { checkServerIdentity: identity } as TlsOptions;
    if (settings.natsCa !== '') tls.caFile = settings.natsCa;
    if (settings.natsCert !== '') Object.assign(tls, { certFile: settings.natsCert, keyFile: settings.natsKey });
    security.tls = tls;
  }
  return { servers, security };
}

export async function connectToNats(servers: string[], nodeId: number, log: Logger, security: NatsSecurity = {}): Promise<NatsConnection> {
  const nc = await connect({
    ...security,
    servers, name: `ternmail-node-${nodeId}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true,
    // A frozen or cut-off node notices within seconds, not the default minutes.
    pingInterval: 5_000, maxPingOut: 2,
    // Without it, every request builds an Error (with its stack) in case it fails: a
    // measurable share of a node's CPU when each forwarded message is a request.
    noAsyncTraces: true,
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
