/// <reference lib="deno.unstable" />
/**
 * How the history lies in Deno KV. Each Git object is kept under its oid as
 * its loose-object bytes (zlib-deflated `<type> <size>\0<body>`, exactly what
 * git writes in `objects/`); bytes beyond one value's 64 KiB go into numbered
 * chunks, the object's own entry then holding the chunk count. A large
 * tree that events keep rewriting (every event rewrites `agreements/`) is
 * kept whole now and then, and the versions in between as Git deltas
 * against that whole version ({@link DeltaValue}; see the anchors of
 * head_tree.ts), written in the same or an earlier atomic operation, so
 * that reading any object takes at most two reads. A delta is written only where
 * its key is absent, so an object that is some delta's base stays whole.
 * `refs/heads/main` is one entry holding the head oid.
 *
 * Keys: `["history", "objects", oid]`, `["history", "chunks", oid, n]`,
 * `["history", "refs", "refs/heads/main"]`.
 */
import {
  deflateObject,
  type EncodedObject,
  encodeObject,
  inflateObject,
  type ObjectType,
} from "./git_objects.ts";
import { applyDelta, encodeDelta } from "./delta.ts";
import { retryWhenLocked } from "./kv_retry.ts";

/** The entry of `refs/heads/main`. */
export const MAIN_REF_KEY: Deno.KvKey = ["history", "refs", "refs/heads/main"];

/** What one atomic operation of Deno KV may hold (Deno Deploy and local KV alike). */
export const KV_LIMITS = {
  mutations: 1000,
  /** Bytes of keys and values together. */
  bytes: 819_200,
  valueBytes: 65_536,
  keysPerRead: 10,
  checks: 100,
};

/** An object kept as a delta against a whole object of the same type. */
export interface DeltaValue {
  type: ObjectType;
  base: string;
  delta: Uint8Array;
}

/** One value to set. */
export interface KvWrite {
  key: Deno.KvKey;
  value: Uint8Array | number | string | DeltaValue;
}

/** Whole objects kept after a read, as bases of the deltas read next. */
export type BaseCache = Map<string, EncodedObject>;

const OID = /^[0-9a-f]{40}$/;
/** A generous bound of a serialised {@link DeltaValue} beyond its delta bytes. */
const DELTA_OVERHEAD = 128;
/** Fewest equal bytes worth a copy instruction instead of inserting them. */
const MIN_COPY = 8;
/** Most bytes of one insert instruction. */
const MAX_INSERT = 127;
/**
 * Whether a write stores a delta. Such a write must not replace an object
 * already there (which may be the base of other deltas), so it is made only
 * while its key is absent.
 */
export function isDeltaWrite(write: KvWrite): boolean {
  const value = write.value;
  return typeof value === "object" && !(value instanceof Uint8Array);
}

/** Whole objects a {@link BaseCache} keeps. */
const BASES_KEPT = 32;
// An object's writes are asked for when a group of commits is planned and
// again when it is appended; deflating once is enough.
const writesOf = new WeakMap<EncodedObject, KvWrite[]>();

/** The key of an object's entry. */
export function objectKey(oid: string): Deno.KvKey {
  return ["history", "objects", oid];
}

/**
 * The writes that store `object`: its chunks first, then its own entry, so
 * that an entry is never visible before the chunks it counts.
 */
export function objectWrites(object: EncodedObject): KvWrite[] {
  let writes = writesOf.get(object);
  if (writes === undefined) {
    writes = encodeWrites(object);
    writesOf.set(object, writes);
  }
  return writes;
}

function encodeWrites(object: EncodedObject): KvWrite[] {
  const base = object.deltaBase;
  if (base !== undefined && base.deltaBase === undefined && base.type === object.type) {
    const delta = base.body.length === object.body.length
      ? alignedDelta(base.body, object.body)
      : encodeDelta(base.body, object.body);
    // A delta is one value: past 64 KiB the object is kept whole, in chunks.
    if (
      delta.length * 2 < object.body.length && delta.length + DELTA_OVERHEAD <= KV_LIMITS.valueBytes
    ) {
      const value: DeltaValue = { type: object.type, base: base.oid, delta };
      return [{ key: objectKey(object.oid), value }];
    }
  }
  const bytes = deflateObject(object);
  if (bytes.length <= KV_LIMITS.valueBytes) return [{ key: objectKey(object.oid), value: bytes }];
  const writes: KvWrite[] = [];
  for (let offset = 0; offset < bytes.length; offset += KV_LIMITS.valueBytes) {
    writes.push({
      key: chunkKey(object.oid, writes.length),
      value: bytes.subarray(offset, offset + KV_LIMITS.valueBytes),
    });
  }
  return [...writes, { key: objectKey(object.oid), value: writes.length }];
}

/**
 * Bytes a write adds to an atomic operation as Deno KV counts them: the
 * encoded key counts twice (measured on local KV 2.9.6: 120 bytes a write
 * beyond the value for a 60-byte key), a number as its serialised form.
 */
export function writeSize(write: KvWrite): number {
  const key = write.key.reduce<number>((size, part) => size + String(part).length + 2, 1);
  const value = write.value;
  const size = typeof value === "number"
    ? 16
    : typeof value === "string" || value instanceof Uint8Array
    ? value.length
    : DELTA_OVERHEAD + value.delta.length;
  return 2 * key + size;
}

/**
 * Reads an object and checks that its bytes hash to `oid`. Rejects when it is
 * missing or torn.
 */
export async function readKvObject(
  kv: Deno.Kv,
  oid: string,
  bases?: BaseCache,
): Promise<EncodedObject> {
  if (!OID.test(oid)) throw new Error(`Cannot read object "${oid.slice(0, 60)}": not an oid`);
  const cached = bases?.get(oid);
  if (cached !== undefined) return cached;
  const entry = await retryWhenLocked(() => kv.get(objectKey(oid)));
  return await objectFromValue(kv, oid, entry.value, bases);
}

/**
 * Reads several objects, {@link KV_LIMITS.keysPerRead} entries a read, each
 * checked as {@link readKvObject} checks it. Resolves them in the order of
 * `oids`; rejects when one is missing or torn.
 */
export async function readKvObjects(
  kv: Deno.Kv,
  oids: string[],
  bases?: BaseCache,
): Promise<EncodedObject[]> {
  for (const oid of oids) {
    if (!OID.test(oid)) throw new Error(`Cannot read object "${oid.slice(0, 60)}": not an oid`);
  }
  const objects: EncodedObject[] = [];
  for (let start = 0; start < oids.length; start += KV_LIMITS.keysPerRead) {
    const part = oids.slice(start, start + KV_LIMITS.keysPerRead);
    const entries = await retryWhenLocked(() => kv.getMany(part.map(objectKey)));
    for (const [i, entry] of entries.entries()) {
      const oid = part[i] as string;
      objects.push(bases?.get(oid) ?? await objectFromValue(kv, oid, entry.value, bases));
    }
  }
  return objects;
}

/** The object an entry's value holds: whole, in chunks, or a delta against a whole object. */
async function objectFromValue(
  kv: Deno.Kv,
  oid: string,
  value: unknown,
  bases: BaseCache | undefined,
): Promise<EncodedObject> {
  if (value instanceof Uint8Array) return inflateObject(oid, value);
  if (typeof value === "number") return inflateObject(oid, await readChunks(kv, oid, value));
  const delta = asDeltaValue(value);
  if (delta !== null) return await readDelta(kv, oid, delta, bases);
  throw new Error(`Cannot read object ${oid} from Deno KV: it is missing`);
}

async function readDelta(
  kv: Deno.Kv,
  oid: string,
  value: DeltaValue,
  bases: BaseCache | undefined,
): Promise<EncodedObject> {
  const base = bases?.get(value.base) ?? await readWhole(kv, oid, value.base);
  if (bases !== undefined && !bases.has(base.oid)) {
    if (bases.size >= BASES_KEPT) bases.delete(bases.keys().next().value ?? "");
    bases.set(base.oid, base);
  }
  if (base.type !== value.type) {
    throw new Error(`Cannot read object ${oid}: its delta base ${base.oid} is a ${base.type}`);
  }
  const object = encodeObject(value.type, applyDelta(base.body, value.delta));
  if (object.oid !== oid) {
    throw new Error(`Cannot read object ${oid}: its content hashes to ${object.oid}`);
  }
  return object;
}

/** Reads the base of a delta, which is never a delta itself. */
async function readWhole(kv: Deno.Kv, oid: string, base: string): Promise<EncodedObject> {
  if (!OID.test(base)) throw new Error(`Cannot read object ${oid}: its delta base is not an oid`);
  const entry = await retryWhenLocked(() => kv.get(objectKey(base)));
  const value = entry.value;
  if (value instanceof Uint8Array) return inflateObject(base, value);
  if (typeof value === "number") return inflateObject(base, await readChunks(kv, base, value));
  throw new Error(
    `Cannot read object ${oid} from Deno KV: its delta base ${base} is missing or not whole`,
  );
}

/**
 * A Git delta between two versions of equal size, comparing bytes at the
 * same offsets: a tree in which entries changed their oid keeps every entry
 * in place, and the delta copies all but the changed oids. Far cheaper than
 * searching the base for matches.
 */
function alignedDelta(base: Uint8Array, target: Uint8Array): Uint8Array {
  // Room for the worst case: every byte inserted, an insert and a copy of at
  // most 8 bytes per MIN_COPY bytes, and both sizes.
  const out = new DeltaOutput(32 + 3 * target.length);
  out.varint(base.length);
  out.varint(target.length);
  let pending = 0;
  for (let at = 0; at < target.length;) {
    if (base[at] !== target[at]) {
      at++;
      continue;
    }
    let end = at;
    while (end < target.length && base[end] === target[end]) end++;
    if (end - at >= MIN_COPY || end === target.length) {
      out.insert(target, pending, at);
      out.copy(at, end - at);
      pending = end;
    }
    at = end;
  }
  out.insert(target, pending, target.length);
  return out.bytes();
}

/** Git delta instructions written into one buffer. */
class DeltaOutput {
  #buffer: Uint8Array;
  #length = 0;

  constructor(capacity: number) {
    this.#buffer = new Uint8Array(capacity);
  }

  /** Insert instructions for `bytes[from..to)`, at most {@link MAX_INSERT} bytes each. */
  insert(bytes: Uint8Array, from: number, to: number): void {
    for (let start = from; start < to; start += MAX_INSERT) {
      const end = Math.min(to, start + MAX_INSERT);
      this.#buffer[this.#length++] = end - start;
      this.#buffer.set(bytes.subarray(start, end), this.#length);
      this.#length += end - start;
    }
  }

  /** A copy instruction: offset and size as their non-zero little-endian bytes. */
  copy(offset: number, size: number): void {
    const at = this.#length++;
    let op = 0x80;
    for (let i = 0; i < 4; i++) {
      const byte = (offset >>> (8 * i)) & 0xff;
      if (byte !== 0) {
        op |= 1 << i;
        this.#buffer[this.#length++] = byte;
      }
    }
    for (let i = 0; i < 3; i++) {
      const byte = (size >>> (8 * i)) & 0xff;
      if (byte !== 0) {
        op |= 0x10 << i;
        this.#buffer[this.#length++] = byte;
      }
    }
    this.#buffer[at] = op;
  }

  varint(value: number): void {
    let rest = value;
    do {
      const low = rest & 0x7f;
      rest = Math.floor(rest / 128);
      this.#buffer[this.#length++] = rest > 0 ? low | 0x80 : low;
    } while (rest > 0);
  }

  bytes(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

function asDeltaValue(value: unknown): DeltaValue | null {
  if (typeof value !== "object" || value === null) return null;
  const { type, base, delta } = value as Record<string, unknown>;
  const known = type === "blob" || type === "tree" || type === "commit";
  return known && typeof base === "string" && delta instanceof Uint8Array
    ? { type, base, delta }
    : null;
}

/** The oid in `refs/heads/main` and the entry's versionstamp (null: no ref yet). */
export async function readMainRef(
  kv: Deno.Kv,
): Promise<{ oid: string | null; versionstamp: string | null }> {
  const entry = await retryWhenLocked(() => kv.get(MAIN_REF_KEY));
  if (entry.versionstamp === null) return { oid: null, versionstamp: null };
  if (typeof entry.value !== "string" || !OID.test(entry.value)) {
    throw new Error(
      `Cannot read refs/heads/main from Deno KV: "${
        String(entry.value).slice(0, 60)
      }" is not an oid`,
    );
  }
  return { oid: entry.value, versionstamp: entry.versionstamp };
}

function chunkKey(oid: string, index: number): Deno.KvKey {
  return ["history", "chunks", oid, index];
}

async function readChunks(kv: Deno.Kv, oid: string, count: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let start = 0; start < count; start += KV_LIMITS.keysPerRead) {
    const keys: Deno.KvKey[] = [];
    for (let i = start; i < Math.min(count, start + KV_LIMITS.keysPerRead); i++) {
      keys.push(chunkKey(oid, i));
    }
    for (const entry of await retryWhenLocked(() => kv.getMany(keys))) {
      if (!(entry.value instanceof Uint8Array)) {
        throw new Error(
          `Cannot read object ${oid} from Deno KV: chunk ${String(entry.key.at(-1))} is missing`,
        );
      }
      parts.push(entry.value);
    }
  }
  const bytes = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
