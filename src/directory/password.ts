// Password hashes: scrypt with per-hash salt and parameters, encoded as
// $scrypt$ln=<log2 N>,r=8,p=1$<salt b64>$<hash b64>. Never logged.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 32;

function scryptAsync(password: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N, r: 8, p: 1, maxmem: 256 * N * 8 + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, logN);
  return `$scrypt$ln=${logN},r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function hashCost(encoded: string): number | null {
  const m = /^\$scrypt\$ln=(\d+),r=8,p=1\$/.exec(encoded);
  return m ? Number(m[1]) : null;
}

export function isPasswordHash(value: string): boolean {
  return /^\$scrypt\$ln=\d+,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(value);
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  const logN = hashCost(encoded);
  if (logN === null || parts.length !== 5) return false;
  const salt = Buffer.from(parts[3], 'base64');
  const expected = Buffer.from(parts[4], 'base64');
  const key = await scryptAsync(password, salt, logN);
  return key.length === expected.length && timingSafeEqual(key, expected);
}
