// The rules of the command table, applied in one place: before a handler runs, the
// command must be valid in the session's state and, when its spec says so, have a
// folder selected; when it completes, its spec says whether pending EXPUNGEs may be
// reported (RFC 3501 §7.4.1). Around them sits the session's one hook point: functions
// run before every admitted command (which may refuse it, as a policy would) and after
// every completed one (as an audit or a metric would), so a rule that concerns all
// commands is added there, not as a name check inside the session.
import type { ImapCommand } from '../protocols/imap/types.js';
import { bad, type CommandSpec, type Completion, type ImapContext } from './commands/command.js';

/** Runs before an admitted command; a Completion returned refuses it with that response. */
export type BeforeCommand = (ctx: ImapContext, spec: CommandSpec, command: ImapCommand) =>
  Completion | void | Promise<Completion | void>;

/** Runs once a command's tagged response is on its way, with that response. */
export type AfterCommand = (ctx: ImapContext, spec: CommandSpec, command: ImapCommand, completion: Completion) =>
  void | Promise<void>;

/** The hook arrays a session carries; empty unless something registers. */
export interface CommandHooks {
  readonly beforeCommand: BeforeCommand[];
  readonly afterCommand: AfterCommand[];
}

/** The table's own rules: the refusal for a command not valid now, or null. */
export function refusal(ctx: ImapContext, spec: CommandSpec, command: ImapCommand): Completion | null {
  if (!spec.states.includes(ctx.state)) return bad(`${command.name} is not valid in the ${ctx.state} state`);
  if (spec.needsSelected === true && ctx.selected === null) return bad(`${command.name} needs a selected mailbox`);
  return null;
}

/** The table's rules, then the before hooks in order: the first refusal wins. */
export async function admit(ctx: ImapContext, hooks: CommandHooks, spec: CommandSpec, command: ImapCommand): Promise<Completion | null> {
  const refused = refusal(ctx, spec, command);
  if (refused !== null) return refused;
  for (const hook of hooks.beforeCommand) {
    const result = await hook(ctx, spec, command);
    if (result) return result;
  }
  return null;
}

export async function afterCompletion(
  ctx: ImapContext, hooks: CommandHooks, spec: CommandSpec | undefined, command: ImapCommand, completion: Completion,
): Promise<void> {
  if (spec === undefined) return;
  for (const hook of hooks.afterCommand) await hook(ctx, spec, command, completion);
}

/** May the session report expunges when this command completes? */
export function expungeAllowedAfter(spec: CommandSpec | undefined, command: ImapCommand): boolean {
  if (spec?.allowExpungeDuring !== 'uid') return true;
  return 'uid' in command && command.uid;
}
