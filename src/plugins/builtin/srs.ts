// SRS, the Sender Rewriting Scheme (`ternmail/plugins/srs`): mail this server sends on
// for a sender of another domain (an alias forwarding to another domain) leaves with
// MAIL FROM rewritten to SRS0=HASH=TT=domain=local@DOMAIN, so the next hop's SPF check
// sees our domain. A bounce to such an address comes back here: the rcptTo hook
// recognises it (a recipient ternmail does not know), checks its hash and age, and
// redirects it to the original sender. HASH is an HMAC-SHA1 of TT, domain and local
// part under `secret` (4 base64 characters, compared without case); TT counts days
// modulo 1024, in base32; an address older than `maxAge` days is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { definePlugin, type PluginApi } from '../contract/index.js';
import { numberOption, stringOption } from './options.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DAY = 86_400_000;

function secretOf(api: PluginApi): string {
  return stringOption(api.options, 'secret');
}

function hashOf(secret: string, tt: string, domain: string, local: string): string {
  return createHmac('sha1', secret).update(`${tt}${domain}${local}`.toLowerCase()).digest('base64').slice(0, 4);
}

function today(): number {
  return Math.floor(Date.now() / DAY) % 1024;
}

function timestamp(day: number): string {
  return BASE32[(day >> 5) & 31] + BASE32[day & 31];
}

/** SRS0 form of `sender` at `domain`. */
export function srsForward(sender: string, domain: string, secret: string): string {
  const at = sender.lastIndexOf('@');
  const local = sender.slice(0, at);
  const senderDomain = sender.slice(at + 1);
  const tt = timestamp(today());
  return `SRS0=${hashOf(secret, tt, senderDomain, local)}=${tt}=${senderDomain}=${local}@${domain}`;
}

/** The original sender of an SRS0 address, or why not. */
export function srsReverse(address: string, secret: string, maxAgeDays: number): { ok: true; sender: string } | { ok: false; why: string } {
  const local = address.slice(0, address.lastIndexOf('@'));
  const match = /^SRS0[=+-]([^=]{4})=([^=]{2})=([^=]+)=(.+)$/i.exec(local);
  if (!match) return { ok: false, why: 'not an SRS0 address' };
  const [, hash, tt, domain, user] = match;
  const expected = Buffer.from(hashOf(secret, tt.toUpperCase(), domain, user).toLowerCase());
  if (expected.length !== hash.length || !timingSafeEqual(expected, Buffer.from(hash.toLowerCase()))) return { ok: false, why: 'bad hash' };
  const day = BASE32.indexOf(tt[0].toUpperCase()) * 32 + BASE32.indexOf(tt[1].toUpperCase());
  const age = (today() - day + 1024) % 1024;
  if (age > maxAgeDays) return { ok: false, why: `expired (${age} days old)` };
  return { ok: true, sender: `${user}@${domain}` };
}

export default definePlugin({
  name: 'srs',
  setup(api, options) {
    if (stringOption(options, 'secret').length < 16) throw new Error('option secret must be at least 16 characters');
    stringOption(options, 'domain');
    numberOption(options, 'maxAge', 21, 1, 365);
  },
  hooks: {
    beforeSend(event, api) {
      const at = event.from.lastIndexOf('@');
      if (at < 0 || api.isLocalDomain(event.from.slice(at + 1).toLowerCase())) return;
      return { mailFrom: srsForward(event.from, stringOption(api.options, 'domain'), secretOf(api)) };
    },
    rcptTo(event, api) {
      if (!event.unknown || !/^SRS0[=+-]/i.test(event.to)) return;
      const reversed = srsReverse(event.to, secretOf(api), numberOption(api.options, 'maxAge', 21));
      if (!reversed.ok) {
        api.log.info({ rcpt: event.to, why: reversed.why }, 'SRS address refused');
        return;
      }
      return { redirect: [reversed.sender] };
    },
  },
});
