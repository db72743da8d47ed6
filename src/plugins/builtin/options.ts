// Reading a shipped plugin's options: each a number of a known range or the default;
// anything else stops setup (and so the server's start) with the option named.

export function numberOption(options: Record<string, unknown>, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`option ${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

export function booleanOption(options: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new Error(`option ${name} must be true or false`);
  return value;
}

export function stringOption(options: Record<string, unknown>, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '') throw new Error(`option ${name} is required`);
  return value;
}
