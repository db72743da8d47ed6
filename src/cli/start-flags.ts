// The flags of `ternmail start` (and `ternmail config show|check`), derived from the
// section declarations: every setting is a flag (--smtp-port N, --tls-key PATH ...).
import type { ParseArgsConfig } from 'node:util';
import { flagName } from '../config/config.js';
import { sections } from '../settings.js';

/** Every flag of `ternmail start`, from the section declarations: --smtp-port N, --tls-key PATH ... */
export function startOptions(): ParseArgsConfig['options'] {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' }, config: { type: 'string' } };
  for (const section of sections) {
    for (const def of Object.values(section.settings)) {
      const flag = flagName(def.legacy);
      if (def.kind === 'tls') {
        options[`${flag}-key`] = { type: 'string' };
        options[`${flag}-cert`] = { type: 'string' };
      } else {
        options[flag] = { type: 'string' };
      }
    }
  }
  return options;
}

/** Parsed flags keyed by legacy name (smtpPort), as loadSettings takes them. */
export function startFlagValues(values: Record<string, unknown>): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const section of sections) {
    for (const def of Object.values(section.settings)) {
      const flag = flagName(def.legacy);
      if (def.kind !== 'tls') {
        flags[def.legacy] = values[flag];
      } else if (values[`${flag}-key`] !== undefined || values[`${flag}-cert`] !== undefined) {
        flags[def.legacy] = { key: values[`${flag}-key`], cert: values[`${flag}-cert`] };
      }
    }
  }
  return flags;
}
