// The server's TLS key and certificate, read once and shared by every listener, so
// all of them enforce the same minimum version and all switch to new files together
// when the operator reloads them (SIGHUP), without touching sessions already open.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { TlsSettings } from '../config/config.js';
import { StartupError } from '../core/startup-error.js';

/** No listener negotiates anything older (TLS 1.0 and 1.1 are deprecated by RFC 8996). */
export const MIN_TLS_VERSION: tls.SecureVersion = 'TLSv1.2';

/** What a listener needs: the current context, its options, and word of a reload. */
export interface TlsSource {
  readonly context: tls.SecureContext;
  readonly options: tls.SecureContextOptions;
  onReload(listener: () => void): void;
}

/** Unreadable or unusable key or certificate: at start a one-line start-up error, at reload a logged one. */
export class TlsMaterialError extends StartupError {}

export class TlsMaterial implements TlsSource {
  private current: { options: tls.SecureContextOptions; context: tls.SecureContext };
  private readonly listeners: Array<() => void> = [];

  private constructor(private readonly settings: TlsSettings) {
    this.current = readMaterial(settings);
  }

  /** Reads and checks the key and certificate; throws a TlsMaterialError naming the file. */
  static load(settings: TlsSettings): TlsMaterial {
    return new TlsMaterial(settings);
  }

  get context(): tls.SecureContext {
    return this.current.context;
  }

  get options(): tls.SecureContextOptions {
    return this.current.options;
  }

  onReload(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Re-reads the files; on any error the old material stays in use and the error is thrown. */
  reload(): void {
    this.current = readMaterial(this.settings);
    for (const listener of this.listeners) listener();
  }
}

/** A fixed key and certificate (tests, embedders): never reloads. */
export function fixedTlsSource(pem: { key: Buffer | string; cert: Buffer | string }): TlsSource {
  const options: tls.SecureContextOptions = { key: pem.key, cert: pem.cert, minVersion: MIN_TLS_VERSION };
  const context = tls.createSecureContext(options);
  return { context, options, onReload: () => undefined };
}

function readMaterial(settings: TlsSettings): { options: tls.SecureContextOptions; context: tls.SecureContext } {
  const options: tls.SecureContextOptions = {
    key: readPem(settings.key, 'key'),
    cert: readPem(settings.cert, 'certificate'),
    minVersion: MIN_TLS_VERSION,
  };
  try {
    return { options, context: tls.createSecureContext(options) };
  } catch (err) {
    throw new TlsMaterialError(`TLS key ${settings.key} and certificate ${settings.cert} are not usable: ${(err as Error).message}`);
  }
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new TlsMaterialError(`permission denied: ${file}`);
    throw new TlsMaterialError(`cannot read TLS ${what} ${file}: ${(err as Error).message}`);
  }
}
