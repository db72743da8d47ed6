// What every part of the configuration shares: the error that stops a start naming the
// bad setting and where its value came from, the TLS pair, and how a setting's legacy
// name becomes its flag (smtpPort → --smtp-port) and environment variable
// (TERNMAIL_SMTP_PORT), which stay exactly as they were before settings had sections.

export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
  }
}

export interface TlsSettings {
  key: string;   // path to PEM key
  cert: string;  // path to PEM certificate
}

/** Flag name (kebab-case) for a setting's legacy name, e.g. smtpPort → smtp-port. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Environment name for a setting's legacy name, e.g. smtpPort → TERNMAIL_SMTP_PORT. */
export function envName(key: string): string {
  return 'TERNMAIL_' + flagName(key).replace(/-/g, '_').toUpperCase();
}
