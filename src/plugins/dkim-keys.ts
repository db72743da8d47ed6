// DKIM keys of a node, one file per domain under DATA/dkim (DOMAIN.json: selector,
// algorithm, private key; readable only by the owner). `ternmail dkim keygen` writes
// them; the dkim-sign plugin reads them. Also renders the TXT record to publish.
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import path from 'node:path';

export type DkimAlgorithm = 'rsa' | 'ed25519';

export interface DkimKey { domain: string; selector: string; algorithm: DkimAlgorithm; privateKey: string }

export const dkimFolder = (dataDir: string): string => path.join(dataDir, 'dkim');

/**
 * Where a node finds the keys: its data folder's dkim/, or, for a worker of a cluster
 * (whose data folder is DATA/node-N), the deployment's DATA/dkim where keygen put them.
 */
export function dkimFolderOf(dataDir: string): string {
  const own = dkimFolder(dataDir);
  if (existsSync(own) || !/^node-\d+$/.test(path.basename(dataDir))) return own;
  return dkimFolder(path.dirname(dataDir));
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
const SELECTOR = /^[a-z0-9](?:[a-z0-9._-]{0,62})$/;

export function generateDkimKey(domain: string, selector: string, algorithm: DkimAlgorithm): DkimKey {
  const name = domain.toLowerCase();
  if (!DOMAIN.test(name)) throw new Error(`not a domain name: ${domain}`);
  if (!SELECTOR.test(selector.toLowerCase())) throw new Error(`not a selector: ${selector} (letters, digits, ".", "-", "_")`);
  const pair = algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { domain: name, selector: selector.toLowerCase(), algorithm, privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export function saveDkimKey(dataDir: string, key: DkimKey): string {
  const folder = dkimFolder(dataDir);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const file = path.join(folder, `${key.domain}.json`);
  // Written aside and renamed: never half a key, and the folder's mtime tells running servers.
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify(key, null, 2) + '\n', { mode: 0o600 });
  chmodSync(aside, 0o600);
  renameSync(aside, file);
  return file;
}

/** The DNS record to publish: its name and the TXT value (split into strings of at most 255 bytes when served). */
export function dkimRecord(key: DkimKey): { name: string; value: string } {
  const publicKey = createPublicKey(key.privateKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  // RFC 8463: an Ed25519 p= is the bare 32-byte key; RSA's is the SubjectPublicKeyInfo.
  const p = key.algorithm === 'ed25519' ? der.subarray(der.length - 32).toString('base64') : der.toString('base64');
  return { name: `${key.selector}._domainkey.${key.domain}`, value: `v=DKIM1; k=${key.algorithm}; p=${p}` };
}

/** The keys in the folder, by domain; re-read only when the folder changed. */
export class DkimKeyring {
  private keys = new Map<string, DkimKey>();
  private seenMtime = -1;

  constructor(private readonly dataDir: string) {}

  lookup(domain: string): DkimKey | undefined {
    this.refresh();
    return this.keys.get(domain.toLowerCase());
  }

  /** No key in the folder (or no folder yet): nothing to sign. */
  isEmpty(): boolean {
    this.refresh();
    return this.keys.size === 0;
  }

  private refresh(): void {
    const folder = dkimFolderOf(this.dataDir);
    if (!existsSync(folder)) return;
    const mtime = statSync(folder).mtimeMs;
    if (mtime === this.seenMtime) return;
    const keys = new Map<string, DkimKey>();
    for (const name of readdirSync(folder)) {
      if (!name.endsWith('.json')) continue;
      const key = JSON.parse(readFileSync(path.join(folder, name), 'utf8')) as DkimKey;
      keys.set(key.domain, key);
    }
    this.keys = keys;
    this.seenMtime = mtime;
  }
}
