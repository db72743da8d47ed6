// DKIM signing (`ternmail/plugins/dkim-sign`): at beforeSend, a transaction whose
// From: domain (or, without one, the envelope sender's) has a key in DATA/dkim
// (`ternmail dkim keygen`) gets a DKIM-Signature on top: relaxed/relaxed, rsa-sha256
// or ed25519-sha256 as the key is. Loaded by every node, so a key made while the server
// runs is used from its next message on; with no key at all a transaction costs one
// stat of the folder, and mailauth is loaded only once there is something to sign.
// Mail from a domain without a key leaves unsigned.
import { Readable } from 'node:stream';
import { definePlugin, type HeaderField } from '../contract/index.js';
import { DkimKeyring } from '../dkim-keys.js';

const keyrings = new Map<string, DkimKeyring>();

export default definePlugin({
  name: 'dkim-sign',
  setup(api) {
    keyrings.set(api.name, new DkimKeyring(api.dataDir));
  },
  hooks: {
    async beforeSend(event, api) {
      const keyring = keyrings.get(api.name);
      if (!keyring || keyring.isEmpty()) return;
      const domain = fromDomain(await event.headers()) ?? event.from.slice(event.from.lastIndexOf('@') + 1);
      const key = domain ? keyring.lookup(domain) : undefined;
      if (!key) return;
      const { dkimSign } = await import('mailauth/lib/dkim/sign.js');
      // mailauth's typings want a top-level key too; the signer reads only signatureData.
      const signed = await dkimSign(Readable.from(event.body()), {
        signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey,
        canonicalization: 'relaxed/relaxed',
        signatureData: [{
          signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey,
          algorithm: key.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256', canonicalization: 'relaxed/relaxed',
        }],
      });
      if (signed.errors.length > 0) throw new Error(`signing for ${key.domain} failed: ${String((signed.errors[0] as { error?: unknown }).error ?? signed.errors[0])}`);
      return { addHeaders: signed.signatures.split(/\r\n(?![ \t])/).filter(Boolean).map(toField) };
    },
  },
});

function toField(header: string): HeaderField {
  const colon = header.indexOf(':');
  return [header.slice(0, colon), header.slice(colon + 1).replace(/^[ \t]+/, '')];
}

/** The domain of the first address in From:. */
function fromDomain(headers: HeaderField[]): string | null {
  const from = headers.find(([name]) => name.toLowerCase() === 'from')?.[1];
  const match = from ? /@([A-Za-z0-9.-]+)/.exec(from) : null;
  return match ? match[1].toLowerCase() : null;
}
