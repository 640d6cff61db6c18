/**
 * Compact columns for the pack cache's index of hundreds of thousands of
 * objects: numbers in typed-array blocks (4 or 8 bytes an item instead of a
 * JS array's 8 plus growth copies) and oids as 20 raw bytes with an
 * optional open-addressing hash index (about 28 bytes an oid instead of a
 * string and a Map entry, over 100 bytes).
 */

const BLOCK_BITS = 14;
const BLOCK = 1 << BLOCK_BITS;
const MASK = BLOCK - 1;
const OID_BYTES = 20;

/** A growing column of numbers, stored as 32-bit integers or as 64-bit floats. */
export class NumberColumn {
  #blocks: Array<Int32Array | Float64Array> = [];
  #length = 0;
  #wide: boolean;

  /** `wide`: 64-bit floats (offsets of large files); otherwise 32-bit integers. */
  constructor(wide = false) {
    this.#wide = wide;
  }

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    const block = this.#length >>> BLOCK_BITS;
    if (block === this.#blocks.length) {
      this.#blocks.push(this.#wide ? new Float64Array(BLOCK) : new Int32Array(BLOCK));
    }
    (this.#blocks[block] as Int32Array | Float64Array)[this.#length & MASK] = value;
    this.#length++;
  }

  get(index: number): number {
    if (!(index >= 0 && index < this.#length)) {
      throw new Error(`Cannot read item ${index} of ${this.#length}`);
    }
    return (this.#blocks[index >>> BLOCK_BITS] as Int32Array | Float64Array)[index & MASK] ?? 0;
  }

  /** The last item. */
  last(): number {
    return this.get(this.#length - 1);
  }

  /** Keeps the first `length` items. */
  truncate(length: number): void {
    if (length > this.#length) throw new Error(`Cannot grow a column by truncating to ${length}`);
    this.#length = length;
    this.#blocks.length = Math.ceil(length / BLOCK);
  }
}

/** Oids by number (order of adding), optionally with an index from oid to number. */
export class OidTable {
  #blocks: Uint8Array[] = [];
  #length = 0;
  #slots: Int32Array | null;
  #probe = new Uint8Array(OID_BYTES);

  constructor(indexed: boolean) {
    this.#slots = indexed ? new Int32Array(1024) : null;
  }

  get length(): number {
    return this.#length;
  }

  /** Appends an oid (40 lowercase hex digits) and returns its number. */
  add(oid: string): number {
    if (!parseOid(oid, this.#probe)) throw new Error(`Cannot index oid "${oid.slice(0, 60)}"`);
    return this.addBytes(this.#probe, 0);
  }

  /** Appends the 20-byte oid at `start` of `bytes` and returns its number. */
  addBytes(bytes: Uint8Array, start: number): number {
    const number = this.#length;
    const block = number >>> BLOCK_BITS;
    if (block === this.#blocks.length) this.#blocks.push(new Uint8Array(BLOCK * OID_BYTES));
    (this.#blocks[block] as Uint8Array).set(
      bytes.subarray(start, start + OID_BYTES),
      (number & MASK) * OID_BYTES,
    );
    this.#length++;
    if (this.#slots !== null) {
      if (this.#length * 10 > this.#slots.length * 7) this.#rehash(this.#slots.length * 2);
      else this.#place(number);
    }
    return number;
  }

  /** The number of an oid, or undefined when it was never added. */
  find(oid: string): number | undefined {
    if (!parseOid(oid, this.#probe)) return undefined;
    return this.findBytes(this.#probe, 0);
  }

  /** The number of the 20-byte oid at `start` of `bytes`, or undefined. */
  findBytes(bytes: Uint8Array, start: number): number | undefined {
    const slots = this.#slots;
    if (slots === null) throw new Error("Cannot look up an oid in a table without index");
    const mask = slots.length - 1;
    for (let slot = hashOid(bytes, start) & mask;; slot = (slot + 1) & mask) {
      const stored = slots[slot] ?? 0;
      if (stored === 0) return undefined;
      if (this.#equals(stored - 1, bytes, start)) return stored - 1;
    }
  }

  /** The oid with number `number` as 40 hex digits. */
  oidAt(number: number): string {
    if (!(number >= 0 && number < this.#length)) {
      throw new Error(`Cannot read oid ${number} of ${this.#length}`);
    }
    return hexAt(this.#blocks[number >>> BLOCK_BITS] as Uint8Array, (number & MASK) * OID_BYTES);
  }

  /** Writes the oid with number `number` as 20 bytes at `at` of `out`. */
  copyOid(number: number, out: Uint8Array, at: number): void {
    const block = this.#blocks[number >>> BLOCK_BITS] as Uint8Array;
    const start = (number & MASK) * OID_BYTES;
    out.set(block.subarray(start, start + OID_BYTES), at);
  }

  /** Keeps the first `length` oids. */
  truncate(length: number): void {
    if (length > this.#length) {
      throw new Error(`Cannot grow an oid table by truncating to ${length}`);
    }
    this.#length = length;
    this.#blocks.length = Math.ceil(length / BLOCK);
    if (this.#slots !== null) this.#rehash(this.#slots.length);
  }

  #equals(number: number, bytes: Uint8Array, start: number): boolean {
    const block = this.#blocks[number >>> BLOCK_BITS] as Uint8Array;
    const at = (number & MASK) * OID_BYTES;
    for (let i = 0; i < OID_BYTES; i++) if (block[at + i] !== bytes[start + i]) return false;
    return true;
  }

  #place(number: number): void {
    const slots = this.#slots as Int32Array;
    const mask = slots.length - 1;
    const block = this.#blocks[number >>> BLOCK_BITS] as Uint8Array;
    let slot = hashOid(block, (number & MASK) * OID_BYTES) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = number + 1;
  }

  #rehash(size: number): void {
    this.#slots = new Int32Array(size);
    for (let number = 0; number < this.#length; number++) this.#place(number);
  }
}

/** Writes the bytes of a 40-digit lowercase hex oid; false when `hex` is not one. */
export function parseOid(hex: string, out: Uint8Array, at = 0): boolean {
  if (hex.length !== 40) return false;
  for (let i = 0; i < OID_BYTES; i++) {
    const high = hexValue(hex.charCodeAt(2 * i));
    const low = hexValue(hex.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) return false;
    out[at + i] = (high << 4) | low;
  }
  return true;
}

const HEX_CODES = new TextEncoder().encode("0123456789abcdef");
const HEX_SCRATCH: number[] = new Array(40).fill(0);

/**
 * The 20-byte oid at `start` in hex, as one flat string: joined pieces would
 * cost about 1 KB per oid until V8 flattens them.
 */
export function hexAt(bytes: Uint8Array, start: number): string {
  for (let i = 0; i < OID_BYTES; i++) {
    const byte = bytes[start + i] ?? 0;
    HEX_SCRATCH[2 * i] = HEX_CODES[byte >> 4] ?? 0;
    HEX_SCRATCH[2 * i + 1] = HEX_CODES[byte & 15] ?? 0;
  }
  return String.fromCharCode.apply(null, HEX_SCRATCH);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** SHA-1 output is uniform, so four of its bytes make a good hash. */
function hashOid(bytes: Uint8Array, start: number): number {
  return ((bytes[start] ?? 0) << 24 | (bytes[start + 1] ?? 0) << 16 |
    (bytes[start + 2] ?? 0) << 8 | (bytes[start + 3] ?? 0)) >>> 0;
}
