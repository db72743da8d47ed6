// STARTTLS (RFC 3501 §6.2.1): the TLS handshake starts right after the tagged OK;
// anything the client pipelined after the command is discarded.
import { bad, ok, type CommandSpec } from './command.js';

export const starttls: CommandSpec = {
  name: 'STARTTLS',
  states: ['not-authenticated'],
  async handle(ctx) {
    if (!ctx.canStartTls) return bad(ctx.tlsActive ? 'TLS is already active' : 'TLS is not available');
    return { ...ok('Begin TLS negotiation now'), after: () => ctx.startTls() };
  },
};
