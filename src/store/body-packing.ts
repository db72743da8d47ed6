// Large bodies are stored compressed when that saves real bytes on disk. A body over the
// inline limit is nearly always an attachment in base64 (6 bits of information per 8-bit
// character) or long text, and LevelDB's own block compression (snappy) finds nothing in
// base64: it stays at full size in the write-ahead log and in every table after it. Deflate
// with Huffman coding only (no match search) takes a base64 body to about 0.76 of its size
// and text to about 0.55, for roughly 6 µs of CPU per KiB, and inflating is cheaper still.
// The choice is made once per body, on its first chunk: if that chunk does not shrink to
// PACKED_AT_MOST of its size, no chunk of the body is compressed (already-compressed binary,
// random bytes). Each chunk is deflated on its own, so a body is still read chunk by chunk.
// The work runs on libuv's thread pool: the event loop never waits for it.
import { constants, deflateRaw, inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';

/** A body is stored deflated only when its first chunk comes out at most this fraction of its size. */
export const PACKED_AT_MOST = 0.9;

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** Huffman-only deflate: the entropy coding that pays on base64, without the match search that does not. */
const packOptions = { strategy: constants.Z_HUFFMAN_ONLY };

/** Compresses one chunk. */
export function packChunk(chunk: Buffer): Promise<Buffer> {
  return deflate(chunk, packOptions);
}

/**
 * Restores one stored chunk; `limit` bounds the output (a chunk is never larger than the
 * chunk size), so a damaged value cannot make the process allocate without bound.
 */
export function unpackChunk(stored: Buffer, limit: number): Promise<Buffer> {
  return inflate(stored, { maxOutputLength: limit });
}

/**
 * Per upload: decides on the first chunk whether the body is stored deflated, then gives
 * every chunk (in any order) in the form the decision calls for.
 */
export class BodyPacker {
  private decision: Promise<boolean> | null = null;

  /** The chunk as it is to be stored. */
  async stored(chunk: Buffer): Promise<Buffer> {
    if (this.decision === null) {
      const packed = packChunk(chunk);
      this.decision = packed.then((out) => out.length <= chunk.length * PACKED_AT_MOST);
      return (await this.decision) ? packed : chunk;
    }
    return (await this.decision) ? packChunk(chunk) : chunk;
  }

  /** Whether the chunks stored so far are deflated (false when none was stored). */
  async packed(): Promise<boolean> {
    return this.decision === null ? false : this.decision;
  }
}
