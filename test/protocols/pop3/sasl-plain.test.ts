// SASL PLAIN message decoding (RFC 4616 as used by RFC 5034).

import { describe, expect, it } from 'vitest';
import { decodePlainResponse } from '../../../src/protocols/pop3/sasl-plain.js';

const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

describe('decodePlainResponse', () => {
  it('decodes authcid and password, with or without a matching authzid', () => {
    expect(decodePlainResponse(encode('\u0000tim\u0000tanstaaftanstaaf'))).toEqual({ ok: true, credentials: { user: 'tim', password: 'tanstaaftanstaaf' } });
    expect(decodePlainResponse(encode('tim\u0000tim\u0000pässword'))).toEqual({ ok: true, credentials: { user: 'tim', password: 'pässword' } });
  });

  it.each([
    ['=', 'empty PLAIN response'],
    ['not base64!', 'invalid base64'],
    ['abc', 'invalid base64'],
    [encode('only\u0000two'), 'malformed PLAIN message'],
    [encode('\u0000\u0000pw'), 'malformed PLAIN message'],
    [encode('admin\u0000tim\u0000pw'), 'authorization identity not permitted'],
  ])('rejects %j (%s)', (response, error) => {
    expect(decodePlainResponse(response)).toEqual({ ok: false, error });
  });
});
