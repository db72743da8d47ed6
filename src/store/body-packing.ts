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

/** Room zlib needs beyond the input when nothing compresses (stored blocks: 5 bytes per 64 KiB). */
const SLACK = 1024;

/**
 * Compresses one chunk with Huffman coding only: the entropy coding that pays on base64,
 * without the match search that does not. The output buffer is as large as the chunk
 * could come out, so the thread pool does it in one trip (zlib's default of 16 KiB made
 * a trip and a main-thread callback per 16 KiB: 8 % of W2's main thread).
 */
export function packChunk(chunk: Buffer): Promise<Buffer> {
  return deflate(chunk, { strategy: constants.Z_HUFFMAN_ONLY, chunkSize: chunk.length + SLACK });
}

/**
 * Restores one stored chunk of `size` bytes (known from the blob record), in one trip to
 * the thread pool and into a buffer of that size; the output is bounded by it, so a
 * damaged value cannot make the process allocate without bound.
 */
export function unpackChunk(stored: Buffer, size: number): Promise<Buffer> {
  return inflate(stored, { chunkSize: Math.max(64, size + 1), maxOutputLength: size });
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
