// Must not compile: a verdict the hook cannot return, and a field the event does not have.
import { definePlugin } from 'ternmail/plugin';

export default definePlugin({
  name: 'wrong',
  hooks: {
    // @ts-expect-error folder is not a verdict of rcptTo
    rcptTo: () => ({ folder: 'Junk' }),
    // @ts-expect-error a data event has no `subject`
    data: (event) => (event.subject ? undefined : undefined),
  },
});
