// COMPRESS DEFLATE (RFC 4978): after the tagged OK both directions are raw DEFLATE.
import { AUTHENTICATED, bad, commandOf, no, ok, type CommandSpec } from './command.js';

export const compress: CommandSpec = {
  name: 'COMPRESS',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mechanism } = commandOf(command, 'COMPRESS');
    if (mechanism !== 'DEFLATE') return bad(`Unknown compression mechanism ${mechanism}`);
    if (ctx.compressionActive) return no('Compression is already active', { code: 'COMPRESSIONACTIVE' });
    return { ...ok('DEFLATE active'), after: () => ctx.startCompression() };
  },
};
