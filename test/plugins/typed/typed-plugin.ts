// A plugin written in TypeScript against `ternmail/plugin`: the types of events and
// verdicts check what a hook may read and return (test/plugins/types.test.ts compiles it).
import { definePlugin, type BeforeDeliveryEvent, type HookVerdicts } from 'ternmail/plugin';

async function place(event: BeforeDeliveryEvent): Promise<HookVerdicts['beforeDelivery']> {
  const subject = (await event.headers()).find(([name]) => name.toLowerCase() === 'subject')?.[1] ?? '';
  return subject.startsWith('[bulk]') ? { folder: 'Bulk', flags: ['\\Seen'] } : undefined;
}

export default definePlugin({
  name: 'typed',
  hooks: {
    rcptTo: (event) => (event.to.endsWith('@blocked.test') ? { reject: { code: 550, text: '5.7.1 No' } } : undefined),
    data: (event) => ({ addHeaders: [['X-Size', String(event.size)]] }),
    beforeDelivery: place,
    delivered: (event, api) => api.log.info({ folder: event.folder, uid: event.uid }, 'delivered'),
  },
});
