/**
 * Where prepared pack entries are kept: an append-only run of bytes read
 * back by offset. The pack cache writes its records into it and rebuilds
 * its index from it on start, so a log that outlives the process saves the
 * warm-up. It is derived data: losing or emptying it costs time only.
 */

/** An append-only byte log. Offsets are counted from its start. */
export interface PackLog {
  /** Bytes the log holds. */
  readonly size: number;
  /** Appends `bytes` at the end. */
  append(bytes: Uint8Array): Promise<void>;
  /**
   * The `length` bytes at `offset`, read into `into` when it is large
   * enough; an implementation may instead return a view of its own memory.
   * Rejects when the range is not inside the log.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Drops every byte from `size` on. */
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

const SLAB = 4 << 20;

/** A {@link PackLog} in memory, for stores without local disk; it starts empty each time. */
export class MemoryPackLog implements PackLog {
  #slabs: Uint8Array[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  append(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      const slab = this.#slabFor(this.#size);
      const start = this.#size % SLAB;
      const length = Math.min(SLAB - start, bytes.length - at);
      slab.set(bytes.subarray(at, at + length), start);
      this.#size += length;
      at += length;
    }
    return Promise.resolve();
  }

  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    checkRange(offset, length, this.#size);
    const start = offset % SLAB;
    const first = this.#slabs[Math.floor(offset / SLAB)] as Uint8Array;
    if (start + length <= SLAB) return Promise.resolve(first.subarray(start, start + length));
    const out = into !== undefined && into.length >= length
      ? into.subarray(0, length)
      : new Uint8Array(length);
    for (let done = 0; done < length;) {
      const at = offset + done;
      const slab = this.#slabs[Math.floor(at / SLAB)] as Uint8Array;
      const piece = Math.min(SLAB - (at % SLAB), length - done);
      out.set(slab.subarray(at % SLAB, (at % SLAB) + piece), done);
      done += piece;
    }
    return Promise.resolve(out);
  }

  truncate(size: number): Promise<void> {
    checkRange(0, size, this.#size);
    this.#size = size;
    this.#slabs.length = Math.ceil(size / SLAB);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#slabs = [];
    this.#size = 0;
    return Promise.resolve();
  }

  #slabFor(offset: number): Uint8Array {
    const index = Math.floor(offset / SLAB);
    while (this.#slabs.length <= index) this.#slabs.push(new Uint8Array(SLAB));
    return this.#slabs[index] as Uint8Array;
  }
}

/** Throws unless `offset` to `offset + length` lies inside a log of `size` bytes. */
export function checkRange(offset: number, length: number, size: number): void {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 ||
    length < 0 || offset + length > size
  ) {
    throw new Error(`Cannot read ${length} bytes at ${offset} of a pack log of ${size} bytes`);
  }
}
