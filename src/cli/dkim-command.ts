// `ternmail dkim keygen DOMAIN --selector S [--algorithm rsa|ed25519]`: makes a key
// for the domain in the data folder (DATA/dkim) and prints the TXT record to publish.
// The server signs that domain's outbound mail from then on, a running one included.
import { dkimRecord, generateDkimKey, saveDkimKey, type DkimAlgorithm } from '../plugins/dkim-keys.js';
import { CliError } from './admin-client.js';

export function runDkim(positionals: string[], values: Record<string, unknown>): string[] {
  if (positionals[0] !== 'keygen' || !positionals[1]) throw new CliError('usage: ternmail dkim keygen DOMAIN --selector S [--algorithm rsa|ed25519] [--data DIR]');
  const selector = values.selector;
  if (typeof selector !== 'string' || selector === '') throw new CliError('dkim keygen needs --selector S');
  const algorithm = (values.algorithm ?? 'rsa') as string;
  if (algorithm !== 'rsa' && algorithm !== 'ed25519') throw new CliError('--algorithm is rsa or ed25519');
  let key;
  try {
    key = generateDkimKey(positionals[1], selector, algorithm as DkimAlgorithm);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const file = saveDkimKey(typeof values.data === 'string' ? values.data : 'data', key);
  const record = dkimRecord(key);
  return [
    `stored the ${algorithm} key for ${key.domain} (selector ${key.selector}) in ${file}`,
    'publish this DNS record:',
    `${record.name}. IN TXT ${quotedStrings(record.value)}`,
  ];
}

/** A TXT value as zone-file strings of at most 255 characters each. */
function quotedStrings(value: string): string {
  const parts: string[] = [];
  for (let at = 0; at < value.length; at += 255) parts.push(`"${value.slice(at, at + 255)}"`);
  return parts.join(' ');
}
