// Starts DomainQueue actors on demand, one per destination domain, under a parent
// that receives no messages itself (nact copies a parent's children map per message).
import type { Ref } from 'nact';
import type { ServerConfig } from '../config/config.js';
import type { Logger } from '../core/logger.js';
import type { BlobStore } from '../store/blob-store.js';
import type { DirectoryCache } from '../directory/cache.js';
import { parseHostPort } from './routing.js';
import { spawn, resetOnCrash } from '../core/supervision.js';
import { domainQueueBehaviour, initialDomainQueueState, type DomainMessage, type RemoteResults } from './domain-queue.js';

export interface OutboundDeps {
  blobs: BlobStore;
  directory: DirectoryCache;
  log: Logger;
  report: (results: RemoteResults) => void;
}

export function startDomainQueues(system: Ref<unknown>, config: ServerConfig, deps: OutboundDeps): (domain: string) => Ref<DomainMessage> {
  const parent = spawn(system, (s: undefined) => s, 'domains');
  const queues = new Map<string, Ref<DomainMessage>>();
  const domainDeps = {
    ...deps,
    routing: { smarthost: config.smarthost ? parseHostPort(config.smarthost, 25) : null, smtpPort: config.outboundPort },
    client: {
      heloName: config.hostname, verifyCertificates: config.verifyCertificates,
      connectTimeoutMs: config.outboundTimeout * 1000, socketTimeoutMs: config.outboundTimeout * 1000 * 5,
    },
    concurrency: config.outboundConcurrency,
    messagesPerConnection: config.messagesPerConnection,
    backoffAfterFailures: config.domainBackoffAfter,
    backoffSchedule: config.retrySchedule,
  };
  return (domain) => {
    let ref = queues.get(domain);
    if (!ref) {
      ref = spawn(parent, domainQueueBehaviour(domain, domainDeps), `domain-${domain}`, {
        initialStateFunc: initialDomainQueueState, onCrash: resetOnCrash(deps.log, `domain queue ${domain}`),
      }) as Ref<DomainMessage>;
      queues.set(domain, ref);
    }
    return ref;
  };
}
