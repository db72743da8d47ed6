// NAMESPACE (RFC 2342): the personal namespace (prefix "", separator "/") and the shared
// one, where folders other users of the domain share appear as `shared/OWNER/Folder` (ACL).
import { SHARED_PREFIX } from '../shared-folders.js';
import { AUTHENTICATED, ok, type CommandSpec } from './command.js';

export const namespace: CommandSpec = {
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  async handle(ctx) {
    await ctx.send({ type: 'namespace', personal: [{ prefix: '', delimiter: '/' }], otherUsers: null, shared: [{ prefix: SHARED_PREFIX, delimiter: '/' }] });
    return ok('NAMESPACE completed');
  },
};
