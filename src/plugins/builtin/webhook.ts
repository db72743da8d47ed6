// A webhook on deliveries (`ternmail/plugins/webhook`): each stored copy is POSTed as
// JSON ({recipient, folder, size, messageId, queueId, uid}) to `url`. The delivered
// hook only records the post in the plugin's store (synced) and hands it to the
// plugin's sender actor, which posts it and, on a failure or a non-2xx answer, tries
// again after `backoff` seconds, doubling, up to `retries` times. Posts still pending
// when the plugin or the server restarts are sent again by setup.
import { definePlugin, type PluginActorRef, type PluginApi } from '../contract/index.js';
import { numberOption, stringOption } from './options.js';

interface Post { key: string; payload: Record<string, unknown>; attempt: number }

const senders = new Map<string, PluginActorRef<Post>>();

export default definePlugin({
  name: 'webhook',
  async setup(api, options) {
    const url = stringOption(options, 'url');
    if (!/^https?:\/\//.test(url)) throw new Error('option url must be an http:// or https:// address');
    numberOption(options, 'retries', 8, 0, 100);
    numberOption(options, 'backoff', 1, 0.01, 3600);
    const sender = api.spawn<Post, null>('sender', null, (state, post) => {
      void deliver(api, post, sender);
      return state;
    });
    senders.set(api.name, sender);
    for await (const [key, payload] of api.store('pending').entries<Record<string, unknown>>()) sender.tell({ key, payload, attempt: 0 });
  },
  hooks: {
    async delivered(event, api) {
      const payload = { recipient: event.recipient, folder: event.folder, size: event.size, messageId: event.messageId, queueId: event.queueId, uid: event.uid };
      const key = `${event.queueId}.${event.recipient}.${event.uid}`;
      await api.store('pending').put(key, payload);
      senders.get(api.name)?.tell({ key, payload, attempt: 0 });
    },
  },
});

async function deliver(api: PluginApi, post: Post, sender: PluginActorRef<Post>): Promise<void> {
  const url = stringOption(api.options, 'url');
  let problem: string;
  try {
    const res = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(post.payload), signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    if (res.ok) {
      await api.store('pending').del(post.key);
      return;
    }
    problem = `HTTP ${res.status}`;
  } catch (err) {
    problem = (err as Error).message;
  }
  const retries = numberOption(api.options, 'retries', 8);
  if (post.attempt >= retries) {
    api.log.warn({ key: post.key, problem, attempts: post.attempt + 1 }, 'webhook post given up');
    await api.store('pending').del(post.key);
    return;
  }
  const delayMs = numberOption(api.options, 'backoff', 1) * 1000 * 2 ** post.attempt;
  api.log.info({ key: post.key, problem, retryInMs: delayMs }, 'webhook post failed; will retry');
  setTimeout(() => sender.tell({ ...post, attempt: post.attempt + 1 }), delayMs).unref();
}
