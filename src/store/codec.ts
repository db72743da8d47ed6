// Value encoding for every stored record: msgpack through msgpackr, with no shared
// record structures, so that any process can read what another wrote.
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encodeRecord(value: unknown): Buffer {
  return packr.pack(value);
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
