/**
 * Git's delta format (gitformat-pack, "Deltified representation"): the
 * base and result sizes as varints, then copy instructions (a range of the
 * base) and insert instructions (up to 127 literal bytes).
 *
 * The encoder indexes the base in 16-byte blocks and extends each block
 * match both ways, so a tree that differs from its previous version in a
 * few entries becomes a few copies and a few short inserts.
 */

const BLOCK = 16;
const MAX_INSERT = 127;
const MAX_COPY = 0xffffff;

/** The delta that turns `base` into `target`. */
export function encodeDelta(base: Uint8Array, target: Uint8Array): Uint8Array {
  const out = new ByteBuilder(64 + (target.length >> 3));
  out.varint(base.length);
  out.varint(target.length);
  const index = indexBlocks(base);
  let pending = 0;
  let at = 0;
  while (at + BLOCK <= target.length) {
    const candidate = index.get(blockHash(target, at));
    if (candidate === undefined || !sameBlock(base, candidate, target, at)) {
      at++;
      continue;
    }
    let from = candidate;
    let start = at;
    while (from > 0 && start > pending && base[from - 1] === target[start - 1]) {
      from--;
      start--;
    }
    let end = at + BLOCK;
    let baseEnd = candidate + BLOCK;
    while (end < target.length && baseEnd < base.length && base[baseEnd] === target[end]) {
      end++;
      baseEnd++;
    }
    out.insert(target, pending, start);
    out.copy(from, end - start);
    pending = end;
    at = end;
  }
  out.insert(target, pending, target.length);
  return out.bytes();
}

/** Applies a delta to its base; throws when the delta does not fit the base. */
export function applyDelta(base: Uint8Array, delta: Uint8Array): Uint8Array {
  const reader = { at: 0 };
  const baseSize = readVarint(delta, reader);
  const size = readVarint(delta, reader);
  if (baseSize !== base.length) {
    throw new Error(
      `Cannot apply delta: it expects a base of ${baseSize} bytes, not ${base.length}`,
    );
  }
  const out = new Uint8Array(size);
  let written = 0;
  while (reader.at < delta.length) {
    const op = delta[reader.at++] ?? 0;
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset |= (delta[reader.at++] ?? 0) << (8 * i);
      for (let i = 0; i < 3; i++) {
        if (op & (0x10 << i)) length |= (delta[reader.at++] ?? 0) << (8 * i);
      }
      if (length === 0) length = 0x10000;
      offset >>>= 0;
      if (offset + length > base.length || written + length > size) {
        throw new Error(`Cannot apply delta: copy of ${length} bytes at ${offset} is out of range`);
      }
      out.set(base.subarray(offset, offset + length), written);
      written += length;
    } else if (op > 0) {
      if (reader.at + op > delta.length || written + op > size) {
        throw new Error(`Cannot apply delta: insert of ${op} bytes is out of range`);
      }
      out.set(delta.subarray(reader.at, reader.at + op), written);
      reader.at += op;
      written += op;
    } else {
      throw new Error("Cannot apply delta: instruction 0 is reserved");
    }
  }
  if (written !== size) throw new Error(`Cannot apply delta: wrote ${written} of ${size} bytes`);
  return out;
}

function indexBlocks(base: Uint8Array): Map<number, number> {
  const index = new Map<number, number>();
  for (let at = 0; at + BLOCK <= base.length; at += BLOCK) {
    const hash = blockHash(base, at);
    if (!index.has(hash)) index.set(hash, at);
  }
  return index;
}

function blockHash(bytes: Uint8Array, at: number): number {
  let hash = 0x811c9dc5;
  for (let i = at; i < at + BLOCK; i++) hash = Math.imul(hash ^ (bytes[i] ?? 0), 0x01000193);
  return hash;
}

function sameBlock(base: Uint8Array, from: number, target: Uint8Array, at: number): boolean {
  for (let i = 0; i < BLOCK; i++) if (base[from + i] !== target[at + i]) return false;
  return true;
}

function readVarint(bytes: Uint8Array, reader: { at: number }): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[reader.at++];
    if (byte === undefined) throw new Error("Cannot apply delta: its header is truncated");
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return value;
  }
}

/** A growing byte buffer with the delta instructions as methods. */
class ByteBuilder {
  #buffer: Uint8Array;
  #length = 0;

  constructor(capacity: number) {
    this.#buffer = new Uint8Array(capacity);
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.#push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    this.#push(rest);
  }

  insert(source: Uint8Array, start: number, end: number): void {
    for (let at = start; at < end; at += MAX_INSERT) {
      const length = Math.min(MAX_INSERT, end - at);
      this.#reserve(length + 1);
      this.#buffer[this.#length++] = length;
      this.#buffer.set(source.subarray(at, at + length), this.#length);
      this.#length += length;
    }
  }

  copy(offset: number, length: number): void {
    for (let done = 0; done < length; done += MAX_COPY) {
      this.#copyOne(offset + done, Math.min(MAX_COPY, length - done));
    }
  }

  bytes(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }

  #copyOne(offset: number, length: number): void {
    this.#reserve(8);
    const opAt = this.#length++;
    let op = 0x80;
    for (let i = 0; i < 4; i++) {
      const byte = Math.floor(offset / 2 ** (8 * i)) & 0xff;
      if (byte !== 0) {
        op |= 1 << i;
        this.#buffer[this.#length++] = byte;
      }
    }
    for (let i = 0; i < 3; i++) {
      const byte = (length >> (8 * i)) & 0xff;
      if (byte !== 0) {
        op |= 0x10 << i;
        this.#buffer[this.#length++] = byte;
      }
    }
    this.#buffer[opAt] = op;
  }

  #push(byte: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = byte;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    const next = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + extra));
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }
}
