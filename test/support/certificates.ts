// Test support: a throwaway self-signed certificate made with openssl.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { tempDir } from './server.js';

export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = tempDir('ternmail-cert-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key, cert };
}
