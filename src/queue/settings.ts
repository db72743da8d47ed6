// The `queue` section: the spool's partitions, local delivery, and how long and how
// often deferred recipients are retried before they bounce.
import { defineSection, type SettingsOf } from '../config/config.js';

export const queueSection = defineSection({
  name: 'queue',
  about: 'the mail queue: partitions, local delivery, retries, delay warnings and bounces',
  settings: {
    partitions: { kind: 'posint', default: 4, legacy: 'queuePartitions', describe: 'queue partitions (actors working the spool in parallel)' },
    localDeliveryConcurrency: { kind: 'posint', default: 256, legacy: 'localDeliveryConcurrency', describe: 'local deliveries at once' },
    retrySchedule: { kind: 'list', default: [60, 300, 900, 1800, 3600], legacy: 'retrySchedule', meta: 'SECS,...', describe: 'retry schedule for deferred recipients in seconds; the last value repeats' },
    maxLifetime: { kind: 'posint', default: 5 * 24 * 3600, legacy: 'maxQueueLifetime', meta: 'SECS', describe: 'seconds a message may stay queued before it bounces' },
    delayWarning: { kind: 'nonneg', default: 4 * 3600, legacy: 'delayWarning', meta: 'SECS', describe: 'seconds after arrival before a delay warning DSN is sent; 0 = never' },
  },
});

export type QueueSettings = SettingsOf<typeof queueSection>;
