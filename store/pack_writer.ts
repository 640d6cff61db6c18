/**
 * A version 2 pack stream (gitformat-pack): `PACK`, version, object count,
 * the entries (whole objects deflated, or deltas against a base given by
 * offset or by oid) and the SHA-1 of everything before it. Bytes come out
 * in chunks as entries are added, so a pack is never held whole.
 */
import { createHash, type Hash } from "node:crypto";
import { deflateSync } from "node:zlib";

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
    return this.#add(entryHeader(type, size), data);
  }

  /** Adds a delta against the entry at `baseOffset`; `data` is the deflated delta. */
  addOffsetDelta(size: number, baseOffset: number, data: Uint8Array): number {
    const distance = this.#offset - baseOffset;
    if (distance <= 0) throw new Error(`Cannot write a delta against offset ${baseOffset}`);
    const header = entryHeader(PACK_TYPE.ofsDelta, size);
    return this.#add(concat2(header, offsetDistance(distance)), data);
  }

  /** Adds a delta against the object `baseOid` (in this pack or, in a thin pack, the client's). */
  addRefDelta(size: number, baseOid: string, data: Uint8Array): number {
    const header = entryHeader(PACK_TYPE.refDelta, size);
    return this.#add(concat2(header, oidBytes(baseOid)), data);
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

  #add(header: Uint8Array, data: Uint8Array): number {
    if (this.#remaining === 0) throw new Error("Cannot add an object: the pack is full");
    this.#remaining--;
    const offset = this.#offset;
    this.#write(header);
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

/** The zlib stream of an entry's data: deflated, or one stored block when it is tiny. */
export function zlibEntry(data: Uint8Array): Uint8Array {
  if (data.length >= STORE_BELOW) return deflateSync(data);
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

/** The type-and-size header of a pack entry. */
export function entryHeader(type: number, size: number): Uint8Array {
  const bytes: number[] = [];
  let rest = Math.floor(size / 16);
  let byte = (type << 4) | (size & 15);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Uint8Array.from(bytes);
}

/** The offset of an OFS_DELTA's base, counted back from the entry. */
export function offsetDistance(distance: number): Uint8Array {
  const bytes = [distance & 0x7f];
  let rest = Math.floor(distance / 128);
  while (rest > 0) {
    rest -= 1;
    bytes.unshift(0x80 | (rest & 0x7f));
    rest = Math.floor(rest / 128);
  }
  return Uint8Array.from(bytes);
}

function oidBytes(oid: string): Uint8Array {
  if (!/^[0-9a-f]{40}$/.test(oid)) throw new Error(`Cannot write oid "${oid}": not 40 hex digits`);
  const bytes = new Uint8Array(20);
  for (let i = 0; i < 20; i++) bytes[i] = parseInt(oid.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
