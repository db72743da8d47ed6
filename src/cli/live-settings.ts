// SIGHUP re-reads the settings from the same flags, environment and config file as
// at start. What can change live does (the log level here; the TLS key and
// certificate in the listeners); every other changed setting is named in the log as
// taking effect at the next restart. An invalid file changes nothing.
import type { Logger } from '../core/logger.js';
import { loadSettings, sections, type ConfigSources, type ServerConfig } from '../settings.js';

/** Settings applied without a restart (net.tls: by the listeners' own SIGHUP handling). */
const LIVE = new Set(['log.level', 'net.tls']);

function changedSettings(before: ServerConfig, after: ServerConfig): string[] {
  const changed: string[] = [];
  for (const section of sections) {
    const a = (before as unknown as Record<string, Record<string, unknown>>)[section.name];
    const b = (after as unknown as Record<string, Record<string, unknown>>)[section.name];
    for (const name of Object.keys(section.settings)) {
      if (JSON.stringify(a[name]) !== JSON.stringify(b[name])) changed.push(`${section.name}.${name}`);
    }
  }
  return changed;
}

export function reloadSettingsOnSignal(running: ServerConfig, sources: ConfigSources, log: Logger): void {
  process.on('SIGHUP', () => {
    let fresh: ServerConfig;
    try {
      fresh = loadSettings(sources).config;
    } catch (err) {
      log.error({ err }, `reload: the configuration is invalid, nothing changed: ${(err as Error).message}`);
      return;
    }
    if (fresh.log.level !== log.level) {
      log.info({ from: log.level, to: fresh.log.level }, 'reload: log level changed');
      log.level = fresh.log.level;
    }
    const atRestart = changedSettings(running, fresh).filter((name) => !LIVE.has(name));
    if (atRestart.length > 0) log.warn({ settings: atRestart }, 'reload: these changed settings take effect at the next restart');
  });
}
