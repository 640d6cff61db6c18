/**
 * A version 2 pack stream (gitformat-pack): `PACK`, version, object count,
 * the entries (whole objects deflated, or deltas against a base given by
 * offset or by oid) and the SHA-1 of everything before it. Bytes come out
 * in chunks as entries are added, so a pack is never held whole.
 */
import { createHash, type Hash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { parseOid } from "./pack_columns.ts";

/** Entry type codes of a pack. */
export const PACK_TYPE = {
  commit: 1,
  tree: 2,
  blob: 3,
  tag: 4,
  ofsDelta: 6,
  refDelta: 7,
} as const;

const DEFAULT_CHUNK = 1 << 20;
// Below this size deflate gains almost nothing on delta bytes and costs a
// fixed ~30 µs per call, so the data goes into one stored block instead.
const STORE_BELOW = 64;

/** Writes one pack; take the output with {@link PackWriter.drain} and {@link PackWriter.finish}. */
export class PackWriter {
  #hash: Hash = createHash("sha1");
  #chunkSize: number;
  #buffer: Uint8Array;
  #used = 0;
  #offset = 0;
  #ready: Uint8Array[] = [];
  #remaining: number;
  // Entry headers are built here: an entry is written before the next is added.
  #header = new Uint8Array(64);

  /** Starts a pack of exactly `count` entries. */
  constructor(count: number, chunkSize = DEFAULT_CHUNK) {
    if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
      throw new Error(`Cannot write a pack of ${count} objects`);
    }
    this.#chunkSize = chunkSize;
    this.#buffer = new Uint8Array(chunkSize);
    this.#remaining = count;
    const header = new Uint8Array(12);
    header.set([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2]);
    new DataView(header.buffer).setUint32(8, count);
    this.#write(header);
  }

  /** Bytes written so far: the offset the next entry gets. */
  get offset(): number {
    return this.#offset;
  }

  /** Adds a whole object (type 1–4); `data` is its deflated body. Returns its offset. */
  addWhole(type: number, size: number, data: Uint8Array): number {
    return this.#add(writeEntryHeader(this.#header, type, size), data);
  }

  /** Adds a delta against the entry at `baseOffset`; `data` is the deflated delta. */
  addOffsetDelta(size: number, baseOffset: number, data: Uint8Array): number {
    const distance = this.#offset - baseOffset;
    if (distance <= 0) throw new Error(`Cannot write a delta against offset ${baseOffset}`);
    const length = writeEntryHeader(this.#header, PACK_TYPE.ofsDelta, size);
    return this.#add(length + writeOffsetDistance(this.#header, length, distance), data);
  }

  /** Adds a delta against the object `baseOid` (in this pack or, in a thin pack, the client's). */
  addRefDelta(size: number, baseOid: string, data: Uint8Array): number {
    const length = writeEntryHeader(this.#header, PACK_TYPE.refDelta, size);
    if (!parseOid(baseOid, this.#header, length)) {
      throw new Error(`Cannot write oid "${baseOid.slice(0, 60)}": not 40 hex digits`);
    }
    return this.#add(length + 20, data);
  }

  /** Full chunks ready to send. */
  drain(): Uint8Array[] {
    const ready = this.#ready;
    this.#ready = [];
    return ready;
  }

  /** The remaining bytes and the trailing checksum; throws when entries are missing. */
  finish(): Uint8Array[] {
    if (this.#remaining !== 0) {
      throw new Error(`Cannot finish the pack: ${this.#remaining} announced objects are missing`);
    }
    this.#flush();
    const ready = this.drain();
    ready.push(new Uint8Array(this.#hash.digest()));
    return ready;
  }

  /** Writes the first `headerLength` bytes of the header scratch and then `data`. */
  #add(headerLength: number, data: Uint8Array): number {
    if (this.#remaining === 0) throw new Error("Cannot add an object: the pack is full");
    this.#remaining--;
    const offset = this.#offset;
    this.#write(this.#header.subarray(0, headerLength));
    this.#write(data);
    return offset;
  }

  #write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const room = this.#buffer.length - this.#used;
      const length = Math.min(room, bytes.length - at);
      this.#buffer.set(bytes.subarray(at, at + length), this.#used);
      this.#used += length;
      at += length;
      if (this.#used === this.#buffer.length) this.#flush();
    }
    this.#offset += bytes.length;
  }

  #flush(): void {
    if (this.#used === 0) return;
    const chunk = this.#used === this.#buffer.length
      ? this.#buffer
      : this.#buffer.slice(0, this.#used);
    this.#hash.update(chunk);
    this.#ready.push(chunk);
    this.#buffer = new Uint8Array(this.#chunkSize);
    this.#used = 0;
  }
}

/**
 * The zlib stream of an entry's data: deflated, or one stored block when it
 * is tiny. The output buffer is sized to zlib's bound for the input: the
 * default 16 KiB chunk would be garbage for every small entry.
 */
export function zlibEntry(data: Uint8Array): Uint8Array {
  if (data.length >= STORE_BELOW) {
    return deflateSync(data, { chunkSize: data.length + (data.length >> 10) + 64 });
  }
  const out = new Uint8Array(data.length + 11);
  out.set([0x78, 0x01, 0x01, data.length & 0xff, data.length >> 8]);
  out[5] = ~data.length & 0xff;
  out[6] = (~data.length >> 8) & 0xff;
  out.set(data, 7);
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  new DataView(out.buffer).setUint32(data.length + 7, ((b << 16) | a) >>> 0);
  return out;
}

/** Writes the type-and-size header of a pack entry at the start of `out`; returns its length. */
function writeEntryHeader(out: Uint8Array, type: number, size: number): number {
  let length = 0;
  let rest = Math.floor(size / 16);
  let byte = (type << 4) | (size & 15);
  while (rest > 0) {
    out[length++] = byte | 0x80;
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  out[length++] = byte;
  return length;
}

/**
 * Writes the offset of an OFS_DELTA's base, counted back from the entry,
 * at `at` of `out` (most significant group first); returns its length.
 */
function writeOffsetDistance(out: Uint8Array, at: number, distance: number): number {
  let count = 1;
  for (let rest = Math.floor(distance / 128); rest > 0; rest = Math.floor((rest - 1) / 128)) {
    count++;
  }
  let rest = distance;
  out[at + count - 1] = rest & 0x7f;
  rest = Math.floor(rest / 128);
  for (let i = count - 2; i >= 0; i--) {
    rest -= 1;
    out[at + i] = 0x80 | (rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  return count;
}
