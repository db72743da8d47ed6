// Value encoding for every stored record: msgpack through msgpackr, with no shared
// record structures, so that any process can read what another wrote.
// `encodeRepeating` is for a value holding many objects of one shape (a queue entry's
// recipients): msgpackr's record extension writes the field names once per value
// instead of once per object, and the value still decodes on its own, with either decoder.
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });
const recordPackr = new Packr({ useRecords: true, mapsAsObjects: true, moreTypes: false });

export function encodeRepeating(value: unknown): Buffer {
  return recordPackr.pack(value);
}

export function encodeRecord(value: unknown): Buffer {
  return packr.pack(value);
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
