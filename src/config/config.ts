// The configuration machinery every service uses to declare its section (see section.ts),
// and the composition at the top (src/settings.ts) uses to resolve them all: setting
// kinds and their validation, the precedence flags > env > file > defaults, and errors
// naming the setting and its source. This floor knows no service: sections are handed in.
export { ConfigError, envName, flagName, type TlsSettings } from './errors.js';
export { coerce, kindMeta, showValue, type Kind, type KindValues } from './kinds.js';
export { defaultsOf, defineSection, type LegacySettingsOf, type Section, type SettingDef, type SettingsOf } from './section.js';
export { loadSections, type ConfigSources, type Loaded, type Origin } from './load.js';
export { renderHelp, renderReference } from './reference.js';
