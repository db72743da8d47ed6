// NOTIFY (RFC 5465): which changes of folders it has not selected the client hears of,
// without polling (see notify.ts). SET STATUS first sends each covered folder's STATUS;
// NONE stops them. Events the server does not send are NO [BADEVENT (supported)].
import { groupFor, statusItemsFor, statusResponse, SUPPORTED_EVENTS, unsupportedEvents } from '../notify.js';
import { AUTHENTICATED, commandOf, failed, no, ok, type CommandSpec } from './command.js';

export const notify: CommandSpec = {
  name: 'NOTIFY',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { groups, status } = commandOf(command, 'NOTIFY');
    if (groups === null) {
      ctx.setNotify(null);
      const stopped = await ctx.mailbox().watch(false);
      return stopped.ok ? ok('NOTIFY completed') : failed(stopped);
    }
    if (unsupportedEvents(groups).length > 0) return no('Event not supported', { code: 'BADEVENT', events: SUPPORTED_EVENTS });
    const watching = await ctx.mailbox().watch(true);
    if (!watching.ok) return failed(watching);
    ctx.setNotify(groups);
    if (status) {
      const folders = await ctx.mailbox().folders();
      if (!folders.ok) return failed(folders);
      for (const folder of folders.folders) {
        if (folder.name === ctx.selected?.name) continue;
        const group = groupFor(groups, folder.name, folder.subscribed);
        const items = group === null ? [] : statusItemsFor(group.events);
        if (items.length > 0) await ctx.send(statusResponse(folder.name, { ...folder, subscribed: folder.subscribed }, items));
      }
    }
    return ok('NOTIFY completed');
  },
};
