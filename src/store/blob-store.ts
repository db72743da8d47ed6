// Single-instance message bodies: content keyed by SHA-256, stored in chunks, with
// one reference key per holder (queue entry or mailbox message) written in the same
// atomic batch as the holder; a body is deleted when its last reference goes. Each
// body's MIME structure is computed once, when it is first stored, and kept beside it,
// with the IMAP SORT/THREAD keys taken from it (src/mime/sort-keys.ts). Bodies too large
// to be inline are stored deflated where that pays (body-packing.ts).
import { createHash } from 'node:crypto';
import { randomHex } from './random-hex.js';
import { Database, del, put, type WriteOp } from './database.js';
import { decodeRecord, encodeRecord } from './codec.js';
import { KeyedLock } from './keyed-lock.js';
import { BlobRecordCache } from './blob-cache.js';
import { BlobRefCounts, REF_COUNT_SCAN_LIMIT } from './blob-ref-counts.js';
import { analyzeBody } from '../mime/off-thread.js';
import { defaultMimeLimits, type MessageStructure, type MimeLimits } from '../mime/types.js';
import { sortKeyBytesNeeded, sortKeyRow, sortKeysFromRow, sortKeysOf, type SortKeys } from '../mime/sort-keys.js';
import { readSnapshot, snapshotUpdate } from './sort-key-snapshots.js';
import { BodyPacker, unpackChunk } from './body-packing.js';

export const CHUNK_SIZE = 256 * 1024;
export const INLINE_LIMIT = 64 * 1024;
/** Structures kept in memory: FETCH ENVELOPE/BODYSTRUCTURE of recent mail hits this. */
/** Memory for cached MIME structures, kept encoded (about 1 KiB each): a few tens of thousands of messages. */
export const STRUCTURE_CACHE_BYTES = 64 * 1024 * 1024;
/** Memory for recent blob records (small bodies are inline in theirs): see blob-cache.ts. */
export const RECORD_CACHE_BYTES = 64 * 1024 * 1024;
/** Bodies in one chunk up to this size are kept whole in the record cache once read. */
const CACHED_CHUNKED_BYTES = 128 * 1024;
/** Decoded structures kept besides the encoded ones (a few KiB each on the heap). */
const DECODED_STRUCTURES = 4096;

/** Bloom filter for the dedup check: 8 Mbit (1 MiB), 4 probes: ~2 % false positives at a million bodies. */
const BLOOM_BITS = 1 << 23;
const BLOOM_HASHES = 4;

const SHA_HEX = /^[0-9a-f]{64}$/;

/** The key as hex digits to probe with: a SHA-256 is uniform already; any other key is hashed first. */
function bloomHex(sha: string): string {
  return SHA_HEX.test(sha) ? sha : createHash('sha256').update(sha).digest('hex');
}

/** Probe i: 8 hex digits of the key, masked to the filter's size. */
function bloomBit(hex: string, i: number): number {
  return parseInt(hex.slice(i * 8, i * 8 + 8), 16) & (BLOOM_BITS - 1);
}

export interface FinishOptions {
  /**
   * Compute the MIME structure of a new body and store it in the same batch (default
   * true). Off for mail that will only be relayed, never read from a mailbox.
   */
  analyze?: boolean;
}

export interface BlobRecord {
  size: number;
  /** Number of chunk records; 0 when the body is kept inline. */
  chunks: number;
  /** The whole body, for bodies up to INLINE_LIMIT: one read instead of two. */
  inline?: Uint8Array;
  storageId: string;
  created: number;
  /** Every chunk is stored deflated (body-packing.ts; store format 3); absent: stored as is. */
  deflated?: true;
}

export interface FinishedUpload {
  sha: string;
  size: number;
  /** True when an identical body was already stored: nothing new was kept. */
  deduplicated: boolean;
  /** Ops that make the body (and its first reference) exist; commit them with the holder. */
  ops: WriteOp[];
  /** Releases the body's lock once the ops are committed (or abandoned). */
  release: () => void;
  /** When the ops are abandoned: removes what the upload already wrote (spilled chunks). */
  discardOps: WriteOp[];
}

function chunkKey(storageId: string, index: number): string {
  return `${storageId}:${index.toString().padStart(6, '0')}`;
}

/** A body being received: chunks are hashed as they come and spilled to disk past CHUNK_SIZE. */
export class BlobUpload {
  private readonly hash = createHash('sha256');
  private readonly storageId = randomHex(12);
  private readonly packer = new BodyPacker();
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private spilled = 0;
  private spills: Promise<void>[] = [];
  /** The first chunk write the disk refused: the upload can only be aborted after it. */
  private failure: Error | null = null;
  size = 0;

  constructor(private readonly store: BlobStore) {
    store.uploading.add(this.storageId);
  }

  write(chunk: Buffer): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    while (this.bufferedBytes >= CHUNK_SIZE) this.spill();
  }

  private spill(): void {
    const all = Buffer.concat(this.buffered);
    const piece = all.subarray(0, CHUNK_SIZE);
    const rest = all.subarray(CHUNK_SIZE);
    this.buffered = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bufferedBytes = rest.length;
    const key = chunkKey(this.storageId, this.spilled++);
    // Caught here, at once: a refused chunk write must never become an unhandled rejection.
    const written = this.packer.stored(piece).then((value) => this.store.db.write([put('chunk', key, value)])).catch((err: Error) => {
      this.failure ??= err;
    });
    this.spills.push(written);
  }

  /** Waits for every chunk write so far; throws the first one the disk refused. */
  private async settleSpills(): Promise<void> {
    await Promise.all(this.spills);
    this.spills = [];
    if (this.failure) throw this.failure;
  }

  /**
   * Resolves when few enough chunk writes are in flight to accept more data; rejects
   * (a StorageError) once a chunk write was refused.
   */
  async backpressure(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.spills.length > 4) await this.settleSpills();
  }

  /**
   * Ends the upload; the caller commits `ops` together with the first reference. For a
   * new body the ops also store its MIME structure (see FinishOptions).
   */
  async finish(holder: string | null, options: FinishOptions = {}): Promise<FinishedUpload> {
    await this.settleSpills();
    const sha = this.hash.digest('hex');
    const unlock = await this.store.lock.acquire(sha);
    // Called once the ops are committed or abandoned: the spilled chunks are then referenced or discarded.
    const release = () => {
      unlock();
      this.store.uploading.delete(this.storageId);
    };
    try {
      const existing = await this.store.has(sha);
      // No holder: the caller adds its own reference in the batch it commits (a delivered message's).
      const ops: WriteOp[] = holder === null ? [] : [this.store.refOp(sha, holder)];
      const discardOps: WriteOp[] = [];
      for (let i = 0; i < this.spilled; i++) discardOps.push(del('chunk', chunkKey(this.storageId, i)));
      if (existing) {
        ops.push(...discardOps);
        return { sha, size: this.size, deduplicated: true, ops, release, discardOps };
      }
      const inline = this.spilled === 0 && this.bufferedBytes <= INLINE_LIMIT;
      // A small body in one piece, made once: stored inline and analyzed from the same bytes.
      const whole = inline ? (this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered, this.bufferedBytes)) : null;
      const record: BlobRecord = whole
        ? { size: this.size, chunks: 0, inline: whole, storageId: this.storageId, created: Date.now() }
        : { size: this.size, chunks: this.spilled + (this.bufferedBytes > 0 ? 1 : 0), storageId: this.storageId, created: Date.now() };
      // The last chunk is deflated on the thread pool while the structure is computed here.
      const last = !inline && this.bufferedBytes > 0 ? this.packer.stored(Buffer.concat(this.buffered, this.bufferedBytes)) : null;
      last?.catch(() => undefined);
      const structure = options.analyze !== false ? await this.structureOps(sha, whole) : [];
      if (last !== null) ops.push(put('chunk', chunkKey(this.storageId, this.spilled), await last));
      if (!inline && (await this.packer.packed())) record.deflated = true;
      const encoded = encodeRecord(record);
      this.store.recordSizes.set(encoded, record.size);
      ops.push(put('blob', sha, encoded), ...structure);
      return { sha, size: this.size, deduplicated: false, ops, release, discardOps };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * The structure and the SORT/THREAD keys of a new body. Small bodies are still in memory
   * (`whole`); larger ones are read back once from their spilled chunks.
   */
  private async structureOps(sha: string, whole: Buffer | null): Promise<WriteOp[]> {
    const body = whole ?? (await this.spilledBody());
    const structure = await analyzeBody(body, this.store.mimeLimits);
    return [this.structurePut(sha, structure), sortKeysPut(sha, sortKeysOf(structure, body))];
  }

  private async spilledBody(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let i = 0; i < this.spilled; i++) parts.push(await this.spilledChunk(i));
    parts.push(...this.buffered);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private structurePut(sha: string, structure: unknown): WriteOp {
    const encoded = encodeRecord(structure);
    this.store.remember(sha, encoded);
    return put('bmeta', sha, encoded);
  }

  /** The bytes written so far, in order: spilled chunks read back, then what is still in memory. */
  async *contents(): AsyncGenerator<Buffer> {
    await this.settleSpills();
    for (let i = 0; i < this.spilled; i++) yield await this.spilledChunk(i);
    yield* this.buffered;
  }

  /** Spilled chunk i as received. */
  private async spilledChunk(i: number): Promise<Buffer> {
    const stored = await this.store.db.get('chunk', chunkKey(this.storageId, i));
    if (!stored) throw new Error(`upload ${this.storageId} chunk ${i} missing`);
    return (await this.packer.packed()) ? unpackChunk(stored, CHUNK_SIZE) : stored;
  }

  /**
   * Drops what was spilled (message refused or connection lost). On a full disk the
   * delete may be refused too: it throws, and the chunks stay behind, unreferenced.
   */
  async abort(): Promise<void> {
    await Promise.all(this.spills);
    const ops: WriteOp[] = [];
    for (let i = 0; i < this.spilled; i++) ops.push(del('chunk', chunkKey(this.storageId, i)));
    try {
      await this.store.db.write(ops);
    } finally {
      // Chunks a refused delete left behind are the sweep's (sweepChunks) from now on.
      this.store.uploading.delete(this.storageId);
    }
  }
}

export class BlobStore {
  readonly lock = new KeyedLock();
  /** Storage ids of uploads begun and not yet committed or aborted: their spilled chunks are not orphans. */
  readonly uploading = new Set<string>();
  private counters: Promise<{ blobs: number; blobBytes: number }> | null = null;
  private countersReady = false;
  private onCollected: (size: number) => void = () => undefined;
  /** sha → structure, least recently used first (a Map keeps insertion order). */
  /** sha → encoded structure, least recently used first (a Map keeps insertion order). */
  private readonly structures = new Map<string, Buffer>();
  private structureBytes = 0;
  /** The most recently used structures decoded (shared, never modified): FETCH decodes none of them again. */
  private readonly decodedStructures = new Map<string, MessageStructure>();

  /** Encoded blob records this process built → their body size, so counting a commit needs no decode. */
  readonly recordSizes = new WeakMap<Buffer, number>();
  /**
   * Bloom filter of the stored bodies' hashes: a miss means the body is certainly not
   * stored, so the dedup check in `finish` needs no disk read (profile item 5). Filled by
   * one key scan, with every committed blob put added as it commits; until the scan is
   * done every check reads the disk. Deleted bodies stay in it (a false positive only
   * costs the read).
   */
  private readonly known = new Uint8Array(BLOOM_BITS / 8);
  private knownState: 'idle' | 'loading' | 'ready' = 'idle';

  /** Recently committed or read blob records: FETCH of fresh mail without a disk read. */
  readonly records = new BlobRecordCache<BlobRecord>(RECORD_CACHE_BYTES);
  /** References of recently collected bodies, so that most collects need no disk lookup (blob-ref-counts.ts). */
  readonly refCounts = new BlobRefCounts();

  constructor(readonly db: Database, readonly mimeLimits: MimeLimits = defaultMimeLimits) {
    db.onCommitted((ops) => {
      for (const op of ops) if (op.space === 'blob' && op.type === 'put') this.records.put(op.key, decodeRecord<BlobRecord>(op.value));
      this.refCounts.applyCommitted(ops);
    });
  }

  /** Whether a body is stored (the dedup check): no record decode, and no read on a filter miss. */
  async has(sha: string): Promise<boolean> {
    if (this.knownState === 'idle') this.loadFilter();
    if (this.knownState === 'ready' && !this.mayHave(sha)) return false;
    if (this.records.has(sha)) return true;
    return (await this.db.get('blob', sha)) !== undefined;
  }

  private loadFilter(): void {
    this.knownState = 'loading';
    // The listener first, then the scan: a body is in the scan's snapshot or commits after it.
    this.db.onCommitted((ops) => {
      for (const op of ops) if (op.space === 'blob' && op.type === 'put') this.addKnown(op.key);
    });
    void (async () => {
      for await (const sha of this.db.scanKeys('blob', '')) this.addKnown(sha);
      this.knownState = 'ready';
    })().catch(() => {
      // Scan failed: keep reading the disk for every check (never a false negative).
      this.knownState = 'loading';
    });
  }

  private addKnown(sha: string): void {
    const hex = bloomHex(sha);
    for (let i = 0; i < BLOOM_HASHES; i++) {
      const bit = bloomBit(hex, i);
      this.known[bit >>> 3] |= 1 << (bit & 7);
    }
  }

  private mayHave(sha: string): boolean {
    const hex = bloomHex(sha);
    for (let i = 0; i < BLOOM_HASHES; i++) {
      const bit = bloomBit(hex, i);
      if ((this.known[bit >>> 3] & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }

  beginUpload(): BlobUpload {
    return new BlobUpload(this);
  }

  async record(sha: string): Promise<BlobRecord | undefined> {
    const cached = this.records.get(sha);
    if (cached !== undefined) return cached;
    const token = this.records.readStarted();
    const raw = await this.db.get('blob', sha);
    if (!raw) return undefined;
    const record = decodeRecord<BlobRecord>(raw);
    this.records.fill(sha, record, token);
    return record;
  }

  refOp(sha: string, holder: string): WriteOp {
    return put('bref', `${sha}:${holder}`, Buffer.alloc(0));
  }

  unrefOp(sha: string, holder: string): WriteOp {
    return del('bref', `${sha}:${holder}`);
  }

  /**
   * Adds a reference to a body that the caller already holds a reference to
   * (COPY, alias fan-out): no lock is needed, the body cannot disappear meanwhile.
   */
  addRefOp(sha: string, holder: string): WriteOp {
    return this.refOp(sha, holder);
  }

  /** The body's bytes, chunk by chunk. */
  async *read(sha: string): AsyncGenerator<Buffer> {
    const record = await this.record(sha);
    if (!record) throw new Error(`blob ${sha} not found`);
    if (record.inline) {
      yield Buffer.from(record.inline.buffer, record.inline.byteOffset, record.inline.byteLength);
      return;
    }
    // A body just over the inline limit is kept whole in the cache once read (one chunk).
    const token = record.chunks === 1 && record.size <= CACHED_CHUNKED_BYTES ? this.records.readStarted() : null;
    for (let i = 0; i < record.chunks; i++) {
      const stored = await this.db.get('chunk', chunkKey(record.storageId, i));
      if (!stored) throw new Error(`blob ${sha} chunk ${i} missing`);
      const chunk = record.deflated ? await unpackChunk(stored, Math.min(CHUNK_SIZE, record.size - i * CHUNK_SIZE)) : stored;
      if (token !== null) this.records.fill(sha, { ...record, inline: chunk }, token);
      yield chunk;
    }
  }

  /** The whole body when it is in the record cache (no disk read, no waiting); else undefined. */
  cachedBody(sha: string): Buffer | undefined {
    const inline = this.records.get(sha)?.inline;
    if (inline === undefined || Buffer.isBuffer(inline)) return inline;
    return Buffer.from(inline.buffer, inline.byteOffset, inline.byteLength);
  }

  async readAll(sha: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.read(sha)) parts.push(chunk);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * The body's MIME structure: from memory, else from `bmeta`, else computed from the
   * bytes and stored (bodies stored before structures existed, or with analyze off).
   */
  async structure(sha: string): Promise<MessageStructure> {
    const decoded = this.decodedStructures.get(sha);
    if (decoded) {
      this.decodedStructures.delete(sha);
      this.decodedStructures.set(sha, decoded);
      return decoded;
    }
    const cached = this.structures.get(sha);
    if (cached) {
      this.remember(sha, cached);
      return this.keepDecoded(sha, decodeRecord<MessageStructure>(cached));
    }
    const raw = await this.db.get('bmeta', sha);
    if (raw) {
      this.remember(sha, raw);
      return this.keepDecoded(sha, decodeRecord<MessageStructure>(raw));
    }
    return this.lock.run(sha, () => this.analyzeStored(sha));
  }

  /**
   * The SORT/THREAD keys of many bodies (a folder's), in order: from the folder's snapshot
   * (`snapshotKey`, see sort-key-snapshots.ts), else the bodies' rows in one call. Bodies
   * stored before the keys were kept get them computed from their structure and header and
   * written back (unsynced: they can always be computed again); null for a body that is gone.
   */
  async sortKeys(shas: string[], snapshotKey?: string): Promise<Array<SortKeys | null>> {
    const snapshot = snapshotKey === undefined ? new Map<string, SortKeys>() : readSnapshot(await this.db.get('skeys', snapshotKey));
    const keys: Array<SortKeys | null> = shas.map((sha) => snapshot.get(sha) ?? null);
    const notInSnapshot = nullPositions(keys);
    const rows = await this.db.getMany('skeys', notInSnapshot.map((i) => shas[i]!));
    rows.forEach((row, n) => {
      if (row !== undefined) keys[notInSnapshot[n]!] = storedSortKeys(row);
    });
    await this.rebuildMissing(shas, keys);
    const update = snapshotKey === undefined ? null : snapshotUpdate(snapshotKey, shas, keys, snapshot, notInSnapshot.length);
    if (update !== null) await this.db.write([update]);
    return keys;
  }

  /** Fills the keys not stored (null in `keys`) from the bodies, a few at a time. */
  private async rebuildMissing(shas: string[], keys: Array<SortKeys | null>): Promise<void> {
    const missing = nullPositions(keys);
    let next = 0;
    const rebuild = async () => {
      for (let n = next++; n < missing.length; n = next++) {
        const i = missing[n]!;
        keys[i] = await this.rebuildSortKeys(shas[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REBUILD_PARALLEL, missing.length) }, rebuild));
  }

  /** Written under the body's lock, so a body collected meanwhile gets no row left behind. */
  private async rebuildSortKeys(sha: string): Promise<SortKeys | null> {
    try {
      const structure = await this.structure(sha);
      const keys = sortKeysOf(structure, await this.head(sha, sortKeyBytesNeeded(structure)));
      await this.lock.run(sha, async () => {
        if (await this.has(sha)) await this.db.write([sortKeysPut(sha, keys)]);
      });
      return keys;
    } catch {
      return null;
    }
  }

  /** At least the first `bytes` bytes of the body (whole chunks), without reading the rest. */
  private async head(sha: string, bytes: number): Promise<Buffer> {
    if (bytes === 0) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    let have = 0;
    for await (const chunk of this.read(sha)) {
      parts.push(chunk);
      have += chunk.length;
      if (have >= bytes) break;
    }
    return Buffer.concat(parts);
  }

  private async analyzeStored(sha: string): Promise<MessageStructure> {
    const structure = await analyzeBody(await this.readAll(sha), this.mimeLimits);
    const encoded = encodeRecord(structure);
    // Unsynced: the structure can always be computed again from the body.
    await this.db.write([put('bmeta', sha, encoded)]);
    this.remember(sha, encoded);
    return structure;
  }

  private keepDecoded(sha: string, structure: MessageStructure): MessageStructure {
    this.decodedStructures.set(sha, structure);
    if (this.decodedStructures.size > DECODED_STRUCTURES) this.decodedStructures.delete(this.decodedStructures.keys().next().value!);
    return structure;
  }

  /** Puts a structure at the most recently used end of the cache. */
  remember(sha: string, structure: MessageStructure | Buffer): void {
    const encoded = Buffer.isBuffer(structure) ? structure : encodeRecord(structure);
    this.forget(sha);
    this.structures.set(sha, encoded);
    this.structureBytes += encoded.length;
    while (this.structureBytes > STRUCTURE_CACHE_BYTES) {
      const oldest = this.structures.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
  }

  private forget(sha: string): void {
    this.decodedStructures.delete(sha);
    const old = this.structures.get(sha);
    if (!old) return;
    this.structures.delete(sha);
    this.structureBytes -= old.length;
  }

  /**
   * Stores a body received from another node (or finds it stored already) and gives
   * it a reference `holder`, durably. Used when a mailbox on this node receives a
   * message whose bytes were accepted elsewhere.
   */
  async storeBody(bytes: Buffer, holder: string): Promise<string> {
    const finished = await this.prepareBody(bytes);
    try {
      await this.db.commit([...finished.ops, this.refOp(finished.sha, holder)]);
    } finally {
      finished.release();
    }
    return finished.sha;
  }

  /**
   * Prepares ops that store a body received from another node, to be committed by
   * the caller in the same batch as the reference it adds; the body's lock is held
   * until `release` (so it cannot be collected in between).
   */
  async prepareBody(bytes: Buffer): Promise<FinishedUpload> {
    const upload = this.beginUpload();
    upload.write(bytes);
    return upload.finish(null);
  }

  /**
   * Deletes the body if no reference to it remains. Call after committing unrefs. A body
   * whose count in memory is above zero is kept without a disk lookup; `fromDisk` only
   * looks on disk, for one reference (the orphan sweep, which must see past an over-count).
   */
  async collect(sha: string, fromDisk = false): Promise<boolean> {
    return this.lock.run(sha, async () => {
      if (fromDisk ? await this.anyReferenceOnDisk(sha) : this.refCounts.referenced(sha) || await this.referencedOnDisk(sha)) return false;
      const record = await this.record(sha);
      if (!record) return false;
      const ops: WriteOp[] = [del('blob', sha), del('bmeta', sha), del('skeys', sha)];
      for (let i = 0; i < record.chunks; i++) ops.push(del('chunk', chunkKey(record.storageId, i)));
      await this.db.commit(ops);
      this.records.collected(sha);
      this.refCounts.forget(sha);
      this.forget(sha);
      this.onCollected(record.size);
      return true;
    });
  }

  /** Whether any reference is on disk (the sweep's check: one key, no count kept). */
  private async anyReferenceOnDisk(sha: string): Promise<boolean> {
    for await (const _ of this.db.scanKeys('bref', `${sha}:`, 1)) return true;
    return false;
  }

  /**
   * Counts the body's references on disk (up to REF_COUNT_SCAN_LIMIT) and keeps the count.
   * The count starts in the same turn as the scan's snapshot, so each committed batch is
   * counted once: either in the snapshot or as it commits.
   */
  private async referencedOnDisk(sha: string): Promise<boolean> {
    this.refCounts.startCounting(sha);
    let found = 0;
    for await (const _ of this.db.scanKeys('bref', `${sha}:`, REF_COUNT_SCAN_LIMIT)) found += 1;
    this.refCounts.learned(sha, found);
    return found > 0;
  }

  /**
   * Collects every stored body that no reference holds any more: bodies whose last
   * reference went without a collect after it (the queue skips collect when a mailbox
   * here holds the body, and that reference may go first). Each body is checked under
   * its lock, as collect does, so a body being referenced is never deleted.
   */
  async sweep(): Promise<number> {
    let collected = 0;
    for await (const sha of this.db.scanKeys('blob', '')) if (await this.collect(sha, true)) collected += 1;
    return collected + (await this.sweepChunks());
  }

  /**
   * Deletes chunks no body record refers to: what a body larger than a chunk spilled
   * (unsynced) before a crash or a failed commit left behind. Read from one snapshot:
   * a chunk there belongs to a body whose record is there too, or to an upload under way
   * at that moment (noted in the same turn), or to nothing. Keeps in memory the storage
   * ids of the bodies kept in chunks (bodies over 64 KiB), about 60 bytes each.
   */
  async sweepChunks(): Promise<number> {
    const orphans = await this.db.readSnapshot(async (at) => {
      const underWay = new Set(this.uploading);
      const referenced = new Set<string>();
      for await (const [, raw] of at.entries('blob')) {
        const record = decodeRecord<BlobRecord>(raw);
        if (record.chunks > 0) referenced.add(record.storageId);
      }
      const found: string[] = [];
      for await (const key of at.keys('chunk')) {
        const storageId = key.slice(0, key.lastIndexOf(':'));
        if (!referenced.has(storageId) && !underWay.has(storageId)) found.push(key);
      }
      return found;
    });
    for (let i = 0; i < orphans.length; i += 256) await this.db.write(orphans.slice(i, i + 256).map((key) => del('chunk', key)));
    return orphans.length;
  }

  /**
   * Distinct stored bodies and their bytes: counted once from disk, then kept current
   * from committed batches (new blob records) and from collect (deleted ones).
   */
  async stats(): Promise<{ blobs: number; blobBytes: number }> {
    if (!this.counters) this.counters = this.countFromDisk();
    const counters = await this.counters;
    return { blobs: counters.blobs, blobBytes: counters.blobBytes };
  }

  private async countFromDisk(): Promise<{ blobs: number; blobBytes: number }> {
    const counters = { blobs: 0, blobBytes: 0 };
    const seen = new Set<string>();
    // Count what commits while the scan runs as deltas, then merge.
    const during: Array<[string, number]> = [];
    this.db.onCommitted((ops) => {
      for (const op of ops) {
        if (op.space !== 'blob' || op.type !== 'put') continue;
        const size = this.recordSizes.get(op.value) ?? decodeRecord<BlobRecord>(op.value).size;
        if (this.countersReady) {
          counters.blobs += 1;
          counters.blobBytes += size;
        } else {
          during.push([op.key, size]);
        }
      }
    });
    this.onCollected = (size) => {
      counters.blobs -= 1;
      counters.blobBytes -= size;
    };
    for await (const [key, raw] of this.db.scan('blob', '')) {
      seen.add(key);
      counters.blobs += 1;
      counters.blobBytes += decodeRecord<BlobRecord>(raw).size;
    }
    for (const [key, size] of during) {
      if (seen.has(key)) continue;
      counters.blobs += 1;
      counters.blobBytes += size;
    }
    this.countersReady = true;
    return counters;
  }
}

/** Bodies whose SORT/THREAD keys are computed at once when a store written before them is first sorted. */
const REBUILD_PARALLEL = 16;

/** Where `keys` holds null; a loop, not flatMap, which makes an array per entry (10,000 of them for a folder). */
function nullPositions(keys: ReadonlyArray<SortKeys | null>): number[] {
  const out: number[] = [];
  for (let i = 0; i < keys.length; i++) if (keys[i] === null) out.push(i);
  return out;
}

/** A stored row's keys; null when it does not decode (they are computed again). */
function storedSortKeys(row: Buffer): SortKeys | null {
  try {
    return sortKeysFromRow(decodeRecord(row));
  } catch {
    return null;
  }
}

function sortKeysPut(sha: string, keys: SortKeys): WriteOp {
  return put('skeys', sha, encodeRecord(sortKeyRow(keys)));
}
