// Content-* header interpretation for one MIME part (RFC 2045, 2183, 3066,
// 2557, 1864): type, parameters, encoding, disposition, language, location.
// The first occurrence of each field wins, as in Dovecot.

import { readParameters, Rfc822Reader } from './rfc822-reader.js';
import type { Disposition, MimePart, ParamList } from './types.js';

/** The Content-* fields a part keeps (see MimePart), as read from its header. */
export type ContentFields = Pick<MimePart,
  'type' | 'subtype' | 'params' | 'boundary' | 'id' | 'description' | 'encoding' | 'md5' | 'disposition' | 'language' | 'location'> & {
  /** type/subtype lower-cased, "" when unparsable; drives the part kind. */
  mediaType: string | null;
};

export function emptyContentFields(): ContentFields {
  return {
    type: null,
    subtype: null,
    params: null,
    mediaType: null,
    boundary: null,
    id: null,
    description: null,
    encoding: null,
    md5: null,
    disposition: null,
    language: null,
    location: null,
  };
}

/** Apply one header field (name lower-cased, value unfolded) to the part's content fields. */
export function applyContentField(fields: ContentFields, name: string, value: string): void {
  switch (name) {
    case 'content-type':
      if (fields.mediaType === null) applyContentType(fields, value);
      return;
    case 'content-transfer-encoding':
      if (fields.encoding === null) fields.encoding = parseTransferEncoding(value);
      return;
    case 'content-id':
      fields.id ??= value;
      return;
    case 'content-description':
      fields.description ??= value;
      return;
    case 'content-md5':
      fields.md5 ??= value;
      return;
    case 'content-location':
      fields.location ??= value;
      return;
    case 'content-language':
      fields.language ??= parseLanguage(value);
      return;
    case 'content-disposition':
      if (fields.disposition === null || fields.disposition.params.length === 0) {
        fields.disposition = parseDisposition(value) ?? fields.disposition;
      }
      return;
  }
}

function applyContentType(fields: ContentFields, value: string): void {
  const reader = new Rfc822Reader(value);
  reader.skipLwsp();
  const { value: mediaType, status } = reader.readContentType();
  const slash = mediaType.indexOf('/');
  fields.mediaType = mediaType.toLowerCase();
  fields.type = slash < 0 ? mediaType : mediaType.slice(0, slash);
  fields.subtype = slash < 0 ? '' : mediaType.slice(slash + 1);
  if (status < 0) return;
  const { params } = readParameters(reader);
  fields.params = params;
  fields.boundary = findParam(params, 'boundary');
}

function findParam(params: ParamList, name: string): string | null {
  for (let i = 0; i < params.length; i += 2) {
    if (params[i]!.toLowerCase() === name) return params[i + 1]!;
  }
  return null;
}

function parseTransferEncoding(value: string): string | null {
  const reader = new Rfc822Reader(value);
  reader.skipLwsp();
  const out: string[] = [];
  if (reader.readMimeToken(out) < 0 || reader.skipLwsp() !== 0 || out[0] === '') return null;
  return out[0]!;
}

function parseDisposition(value: string): Disposition | null {
  const reader = new Rfc822Reader(value);
  reader.skipLwsp();
  const out: string[] = [];
  if (reader.readMimeToken(out) < 0) return null;
  return { value: out[0]!, params: readParameters(reader).params };
}

function parseLanguage(value: string): string[] | null {
  const reader = new Rfc822Reader(value);
  const langs: string[] = [];
  reader.skipLwsp();
  for (;;) {
    const out: string[] = [];
    if (reader.readAtom(out) < 0) break;
    langs.push(out[0]!);
    if (reader.atEnd || reader.peek() !== 0x2c) break;
    reader.pos++;
    reader.skipLwsp();
  }
  return langs.length > 0 ? langs : null;
}
