// CHECK (RFC 3501 §6.4.1): every change is already durable when acknowledged, so a NOOP.
import { ok, SELECTED, type CommandSpec } from './command.js';

export const check: CommandSpec = {
  name: 'CHECK',
  states: SELECTED,
  needsSelected: true,
  async handle() {
    return ok('CHECK completed');
  },
};
