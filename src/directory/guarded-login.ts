// One password check for every protocol: an attempt slot from the auth guard first,
// the wait it imposes, then the directory; the slot is given back as success or failure.
// In a cluster of machines, a peer node's proxy logs in with a cluster ticket instead.
import { setTimeout as sleep } from 'node:timers/promises';
import type { UserRecord } from './records.js';
import type { AuthGate, AuthRefusal } from '../net/auth-guard.js';
import type { Directory } from './directory.js';

export type LoginVerdict =
  | { kind: 'ok'; user: UserRecord }
  | { kind: 'bad-credentials' }
  /** Too many failures from this address or for this account: the password was not checked. */
  | { kind: 'refused'; reason: AuthRefusal }
  /** The password was right, but a plugin's auth hook refuses the login for now. */
  | { kind: 'refused'; reason: 'plugin' };

export async function checkLogin(gate: AuthGate, directory: Directory, ip: string, account: string, password: string): Promise<LoginVerdict> {
  // A cluster peer's session proxy, whose node checked the user's password already.
  if (directory.peerLogin?.(ip, account, password)) {
    const user = directory.cache.user(account);
    return user && !user.disabled ? { kind: 'ok', user } : { kind: 'bad-credentials' };
  }
  const admission = await gate.admit(ip, account);
  if (!admission.ok) return { kind: 'refused', reason: admission.reason };
  let user: UserRecord | null;
  try {
    if (admission.delayMs > 0) await sleep(admission.delayMs);
    user = await directory.authenticate(account, password);
  } catch (err) {
    admission.settle('aborted');
    throw err;
  }
  admission.settle(user ? 'success' : 'failure');
  return user ? { kind: 'ok', user } : { kind: 'bad-credentials' };
}
