// Decoding of the SASL PLAIN message (RFC 4616) carried by POP3 AUTH (RFC 5034):
// base64 of "authzid NUL authcid NUL passwd". Pure.

export type PlainCredentials = { user: string; password: string };

export type PlainDecodeResult = { ok: true; credentials: PlainCredentials } | { ok: false; error: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes a client response; "=" is the empty response of RFC 5034 §4. */
export function decodePlainResponse(response: string): PlainDecodeResult {
  if (response === '=') return { ok: false, error: 'empty PLAIN response' };
  if (response.length % 4 !== 0 || !BASE64.test(response)) return { ok: false, error: 'invalid base64' };
  const parts = Buffer.from(response, 'base64').toString('utf8').split('\u0000');
  if (parts.length !== 3) return { ok: false, error: 'malformed PLAIN message' };
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid.length === 0 || password.length === 0) return { ok: false, error: 'malformed PLAIN message' };
  // Acting as another user (proxy authorization) is not offered.
  if (authzid.length > 0 && authzid !== authcid) return { ok: false, error: 'authorization identity not permitted' };
  return { ok: true, credentials: { user: authcid, password } };
}
