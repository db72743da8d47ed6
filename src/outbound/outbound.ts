// Starts DomainQueue actors on demand, one per destination domain, under a parent
// that receives no messages itself (nact copies a parent's children map per message).
import type { Ref } from 'nact';
import type { ServerSettings } from '../core/server-settings.js';
import type { OutboundSettings } from './settings.js';
import type { Logger } from '../core/logger.js';
import type { BlobStore } from '../store/blob-store.js';
import type { DirectoryCache } from '../directory/cache.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { parseHostPort } from './routing.js';
import { defineActor, LONG_LIVED, spawnActor, spawnGroup } from '../core/actor.js';
import { domainQueueBehaviour, initialDomainQueueState, type DomainMessage, type RemoteResults } from './domain-queue.js';

export interface OutboundDeps {
  blobs: BlobStore;
  directory: DirectoryCache;
  log: Logger;
  report: (results: RemoteResults) => void;
  /** Plugin hooks (beforeSend); switched off without plugins. */
  hooks?: PipelineHooks;
}

/** The sections outbound delivery reads; the queue's retry schedule paces a destination's backoff. */
export interface OutboundConfig { server: ServerSettings; outbound: OutboundSettings; queue: { retrySchedule: number[] } }

export function startDomainQueues(system: Ref<unknown>, config: OutboundConfig, deps: OutboundDeps): (domain: string) => Ref<DomainMessage> {
  const parent = spawnGroup(system, 'domains');
  const queues = new Map<string, Ref<DomainMessage>>();
  const domainDeps = {
    ...deps,
    routing: { smarthost: config.outbound.smarthost ? parseHostPort(config.outbound.smarthost, 25) : null, smtpPort: config.outbound.port },
    client: {
      heloName: config.server.hostname, verifyCertificates: config.outbound.verifyCertificates,
      connectTimeoutMs: config.outbound.timeout * 1000, socketTimeoutMs: config.outbound.timeout * 1000 * 5,
    },
    concurrency: config.outbound.concurrency,
    messagesPerConnection: config.outbound.messagesPerConnection,
    backoffAfterFailures: config.outbound.domainBackoffAfter,
    backoffSchedule: config.queue.retrySchedule,
  };
  return (domain) => {
    let ref = queues.get(domain);
    if (!ref) {
      // Reset: the queue actor hands its tasks back on restart. Past the limit `queues`
      // forgets the ref, so the domain's next task starts a fresh actor.
      const domainQueue = defineActor({
        what: `domain queue ${domain}`, handle: domainQueueBehaviour(domain, domainDeps), initialState: initialDomainQueueState,
        restart: { strategy: 'reset', ...LONG_LIVED },
        onGiveUp: (self) => { if (queues.get(domain) === self) queues.delete(domain); },
      });
      ref = spawnActor(parent, domainQueue, `domain-${domain}`, deps.log);
      queues.set(domain, ref);
    }
    return ref;
  };
}
