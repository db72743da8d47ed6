// The kinds of setting value (port, size, list, ...): how each is read from a flag,
// an environment variable or a JSON value, how it is shown in help and docs, and the
// error that names the setting and its source when a value does not fit.
import { availableParallelism } from 'node:os';
import { ConfigError, type TlsSettings } from './errors.js';

/** The value each kind resolves to. */
export interface KindValues {
  string: string;
  optstring: string;
  port: number;
  posint: number;
  nonneg: number;
  bool: boolean;
  list: number[];
  tls: TlsSettings | null;
  workers: number;
  roles: string[][];
  size: number;
}

export type Kind = keyof KindValues;

/** The placeholder after a flag in help (`--smtp-port N`). */
export const kindMeta: Record<Kind, string> = {
  string: 'TEXT', optstring: 'TEXT', port: 'PORT', posint: 'N', nonneg: 'N', bool: 'BOOL',
  list: 'LIST', tls: 'PATH', workers: 'N|auto', roles: 'LIST', size: 'BYTES',
};

/** Reads one raw value (string from a flag or the environment, any JSON value from a file). */
export function coerce<K extends Kind>(kind: K, raw: unknown, where: string): KindValues[K] {
  return coerceAny(kind, raw, where) as KindValues[K];
}

function coerceAny(kind: Kind, raw: unknown, where: string): unknown {
  switch (kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new ConfigError(where, 'expected a non-empty string');
      return raw;
    case 'optstring':
      if (typeof raw !== 'string') throw new ConfigError(where, 'expected a string');
      return raw;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new ConfigError(where, `expected true or false, got ${JSON.stringify(raw)}`);
    case 'port': {
      const n = toInteger(raw);
      if (n === null || n < 0 || n > 65535) throw new ConfigError(where, `expected a port number 0-65535, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'posint': {
      const n = toInteger(raw);
      if (n === null || n <= 0) throw new ConfigError(where, `expected a positive integer, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'nonneg': {
      const n = toInteger(raw);
      if (n === null || n < 0) throw new ConfigError(where, `expected a non-negative integer, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'list':
      return toList(raw, where);
    case 'tls':
      return toTls(raw, where);
    case 'workers': {
      if (raw === 'auto') return availableParallelism();
      const n = toInteger(raw);
      if (n === null || n <= 0 || n > 64) throw new ConfigError(where, `expected a number of workers 1-64 or "auto", got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'roles':
      return toRoles(raw, where);
    case 'size': {
      const n = toSize(raw);
      if (n === null) throw new ConfigError(where, `expected bytes, optionally with K, M or G (e.g. 256M), got ${JSON.stringify(raw)}`);
      return n;
    }
  }
}

/** A value as an operator would write it: 256M, 60,300, mta,store,access, none. */
export function showValue(kind: Kind, value: unknown): string {
  if (value === null || value === '') return 'none';
  if (kind === 'size') return showSize(value as number);
  if (kind === 'list') return (value as number[]).join(',');
  if (kind === 'roles') return (value as string[][]).map((g) => g.join(',')).join(';');
  return String(value);
}

function showSize(n: number): string {
  for (const [unit, factor] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (n >= factor && n % factor === 0) return `${n / factor}${unit}`;
  }
  return String(n);
}

function toList(raw: unknown, where: string): number[] {
  const items = Array.isArray(raw) ? raw : String(raw).split(',');
  const nums = items.map(toInteger);
  if (nums.length === 0 || nums.some((n) => n === null || n <= 0)) {
    throw new ConfigError(where, `expected a list of positive integers, got ${JSON.stringify(raw)}`);
  }
  return nums as number[];
}

/** Bytes from a number or a string like "512K", "256M", "1G" (binary units). */
function toSize(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : null;
  const match = typeof raw === 'string' ? /^\s*(\d+)\s*([KMG]?)i?B?\s*$/i.exec(raw) : null;
  if (!match) return null;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  const n = Number(match[1]) * unit;
  return Number.isSafeInteger(n) ? n : null;
}

function toRoles(raw: unknown, where: string): string[][] {
  const groups = Array.isArray(raw) ? raw.map((g) => (Array.isArray(g) ? g.join(',') : String(g))) : String(raw).split(';');
  return groups.map((group) => {
    const roles = group.split(',').map((r) => r.trim()).filter(Boolean);
    const unknown = roles.filter((r) => !['mta', 'store', 'access'].includes(r));
    if (roles.length === 0 || unknown.length > 0) throw new ConfigError(where, `expected roles among mta,store,access (";" between workers), got ${JSON.stringify(raw)}`);
    return roles;
  });
}

function toTls(raw: unknown, where: string): TlsSettings | null {
  if (raw === null) return null;
  if (typeof raw !== 'object') throw new ConfigError(where, 'expected an object {"key": PATH, "cert": PATH}');
  const { key, cert } = raw as Record<string, unknown>;
  if (typeof key !== 'string' || typeof cert !== 'string') throw new ConfigError(where, 'expected {"key": PATH, "cert": PATH}');
  return { key, cert };
}

function toInteger(raw: unknown): number | null {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}
