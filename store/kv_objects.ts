/// <reference lib="deno.unstable" />
/**
 * How the history lies in Deno KV. Each Git object is kept under its oid as
 * its loose-object bytes (zlib-deflated `<type> <size>\0<body>`, exactly what
 * git writes in `objects/`); bytes beyond one value's 64 KiB go into numbered
 * chunks, the object's own entry then holding the chunk count.
 * `refs/heads/main` is one entry holding the head oid.
 *
 * Keys: `["history", "objects", oid]`, `["history", "chunks", oid, n]`,
 * `["history", "refs", "refs/heads/main"]`.
 */
import { deflateObject, type EncodedObject, inflateObject } from "./git_objects.ts";
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
};

/** One value to set. */
export interface KvWrite {
  key: Deno.KvKey;
  value: Uint8Array | number | string;
}

const OID = /^[0-9a-f]{40}$/;

/** The key of an object's entry. */
export function objectKey(oid: string): Deno.KvKey {
  return ["history", "objects", oid];
}

/**
 * The writes that store `object`: its chunks first, then its own entry, so
 * that an entry is never visible before the chunks it counts.
 */
export function objectWrites(object: EncodedObject): KvWrite[] {
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

/** Bytes a write adds to an atomic operation, keys included. */
export function writeSize(write: KvWrite): number {
  const key = write.key.reduce<number>((size, part) => size + String(part).length + 2, 1);
  const value = typeof write.value === "number" ? 8 : write.value.length;
  return key + value;
}

/**
 * Reads an object and checks that its bytes hash to `oid`. Rejects when it is
 * missing or torn.
 */
export async function readKvObject(kv: Deno.Kv, oid: string): Promise<EncodedObject> {
  if (!OID.test(oid)) throw new Error(`Cannot read object "${oid.slice(0, 60)}": not an oid`);
  const entry = await retryWhenLocked(() => kv.get(objectKey(oid)));
  const value = entry.value;
  if (value instanceof Uint8Array) return inflateObject(oid, value);
  if (typeof value === "number") return inflateObject(oid, await readChunks(kv, oid, value));
  throw new Error(`Cannot read object ${oid} from Deno KV: it is missing`);
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
