// A service's configuration section declared as data: for each setting its name within
// the section, kind, default, a one-line description and its legacy flat name (the key
// before sections, from which its flag and environment variable are derived). Loading,
// `ternmail start --help` and docs/configuration.md all read these declarations.
import type { Kind, KindValues } from './kinds.js';

/** One setting; `meta` overrides the help placeholder of its kind (DIR, ADDR, SECS). */
export type SettingDef = {
  [K in Kind]: { kind: K; default: KindValues[K]; legacy: string; describe: string; meta?: string };
}[Kind];

export interface Section<D extends Record<string, SettingDef> = Record<string, SettingDef>> {
  /** Key of the section in the config file and in the resolved configuration. */
  name: string;
  /** One line on what the section configures. */
  about: string;
  settings: D;
  /** Rules between settings of this section; throws ConfigError. */
  check?(values: SettingsOf<Section<D>>): void;
}

/** The resolved values of a section, typed from its declaration. */
export type SettingsOf<S> = S extends Section<infer D> ? { -readonly [N in keyof D]: KindValues[D[N]['kind']] } : never;

/** A section's settings under their legacy flat names (smtpPort), as flags take them: typed values or text. */
export type LegacySettingsOf<S> = S extends Section<infer D>
  ? { -readonly [N in keyof D as D[N]['legacy']]: KindValues[D[N]['kind']] | string }
  : never;

/** Declares a section, keeping each setting's kind for SettingsOf. */
export function defineSection<const D extends Record<string, SettingDef>>(section: Section<D>): Section<D> {
  return section;
}

/** The defaults of a section, as fresh values a caller may change. */
export function defaultsOf<D extends Record<string, SettingDef>>(section: Section<D>): SettingsOf<Section<D>> {
  const values: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(section.settings)) values[name] = structuredClone(def.default);
  return values as SettingsOf<Section<D>>;
}
