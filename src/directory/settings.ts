// The `directory` section: the cost of password hashes, for new passwords and for
// bulk imports.
import { ConfigError, defineSection, type SettingsOf } from '../config/config.js';

export const directorySection = defineSection({
  name: 'directory',
  about: 'users and passwords',
  settings: {
    passwordCost: { kind: 'posint', default: 14, legacy: 'passwordCost', describe: 'scrypt cost of new passwords (N = 2^cost), at most 20' },
    importPasswordCost: { kind: 'posint', default: 8, legacy: 'importPasswordCost', describe: 'scrypt cost for passwords of a bulk import, at most passwordCost' },
  },
  check(values) {
    if (values.passwordCost > 20) throw new ConfigError('passwordCost', 'at most 20 (scrypt N = 2^cost)');
    if (values.importPasswordCost > values.passwordCost) throw new ConfigError('importPasswordCost', 'must not exceed passwordCost');
  },
});

export type DirectorySettings = SettingsOf<typeof directorySection>;
