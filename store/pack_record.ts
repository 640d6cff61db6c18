/**
 * The bytes of the pack cache's log: a header, then one record per commit
 * in history order. A record is its body length (u32), the body, and the
 * SHA-1 of the body, so a torn or damaged record is recognised.
 *
 * Body: commit oid (20 bytes), root tree oid (20), committer time (f64),
 * item count (u32), then per item an i32: the number of an entry an earlier
 * record introduced, or −1 followed by a new entry: oid (20), pack type
 * (u8), delta base entry (i32, −1 for a whole object), size in the pack
 * header (u32), data length (u32) and the deflated data. New entries are
 * numbered in the order they appear. Integers are big-endian.
 */
import { createHash } from "node:crypto";

/** A new entry as a record carries it. */
export interface NewEntry {
  /** 20 raw bytes. */
  oid: Uint8Array;
  type: number;
  base: number;
  size: number;
  data: Uint8Array;
}

/** One commit's record before encoding. */
export interface CommitRecord {
  /** 20 raw bytes each. */
  commit: Uint8Array;
  tree: Uint8Array;
  time: number;
  items: Array<number | NewEntry>;
}

/** A new entry as read back; offsets are into the bytes the record was read from. */
export interface ReadEntry {
  oidStart: number;
  type: number;
  base: number;
  size: number;
  dataStart: number;
  dataLength: number;
}

/** A record read back; offsets are into the bytes it was read from. */
export interface ReadRecord {
  commitStart: number;
  treeStart: number;
  time: number;
  items: Array<number | ReadEntry>;
}

/** Bytes before a record's body: its length. */
export const RECORD_PREFIX = 4;
/** Bytes after a record's body: its SHA-1. */
export const RECORD_SUFFIX = 20;
const MAGIC = new TextEncoder().encode("AKKPLOG1");
/** Length of the log header. */
export const LOG_HEADER_LENGTH = MAGIC.length + 4;
const NEW_ENTRY = -1;
const FIXED = 20 + 20 + 8 + 4;
const ENTRY_FIXED = 4 + 20 + 1 + 4 + 4 + 4;

/** The log header: format and the longest delta chain the entries were made with. */
export function logHeader(maxDepth: number): Uint8Array {
  const header = new Uint8Array(LOG_HEADER_LENGTH);
  header.set(MAGIC);
  new DataView(header.buffer).setUint32(MAGIC.length, maxDepth);
  return header;
}

/** Whether `bytes` is the header {@link logHeader} writes for `maxDepth`. */
export function isLogHeader(bytes: Uint8Array, maxDepth: number): boolean {
  const expected = logHeader(maxDepth);
  return bytes.length === expected.length && expected.every((byte, i) => bytes[i] === byte);
}

/** The record's bytes; each new entry's data lands at `dataAt(entry)` past the record's start. */
export function encodeRecord(record: CommitRecord): { bytes: Uint8Array; dataAt: number[] } {
  let length = FIXED;
  for (const item of record.items) {
    length += typeof item === "number" ? 4 : ENTRY_FIXED + item.data.length;
  }
  const bytes = new Uint8Array(RECORD_PREFIX + length + RECORD_SUFFIX);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, length);
  let at = RECORD_PREFIX;
  bytes.set(record.commit, at);
  bytes.set(record.tree, at + 20);
  view.setFloat64(at + 40, record.time);
  view.setUint32(at + 48, record.items.length);
  at += FIXED;
  const dataAt: number[] = [];
  for (const item of record.items) {
    if (typeof item === "number") {
      view.setInt32(at, item);
      at += 4;
      continue;
    }
    if (item.size > 0xffffffff || item.data.length > 0xffffffff) {
      throw new Error(`Cannot record an entry of ${item.size} bytes: at most 4 GiB`);
    }
    view.setInt32(at, NEW_ENTRY);
    bytes.set(item.oid, at + 4);
    view.setUint8(at + 24, item.type);
    view.setInt32(at + 25, item.base);
    view.setUint32(at + 29, item.size);
    view.setUint32(at + 33, item.data.length);
    at += ENTRY_FIXED;
    bytes.set(item.data, at);
    dataAt.push(at);
    at += item.data.length;
  }
  bytes.set(sha1(bytes.subarray(RECORD_PREFIX, at)), at);
  return { bytes, dataAt };
}

/** The body length a record starting at `at` announces, or −1 when fewer than 4 bytes are left. */
export function bodyLength(bytes: Uint8Array, at: number): number {
  if (at + RECORD_PREFIX > bytes.length) return -1;
  return new DataView(bytes.buffer, bytes.byteOffset + at, RECORD_PREFIX).getUint32(0);
}

/**
 * Reads the record body of `length` bytes at `start` of `bytes` and checks
 * it against its SHA-1 (the 20 bytes after it); null when it is damaged.
 */
export function readRecord(bytes: Uint8Array, start: number, length: number): ReadRecord | null {
  const body = bytes.subarray(start, start + length);
  const hash = bytes.subarray(start + length, start + length + RECORD_SUFFIX);
  if (length < FIXED || hash.length !== RECORD_SUFFIX) return null;
  const expected = sha1(body);
  for (let i = 0; i < RECORD_SUFFIX; i++) if (hash[i] !== expected[i]) return null;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const count = view.getUint32(48);
  const items: Array<number | ReadEntry> = [];
  let at = FIXED;
  for (let i = 0; i < count; i++) {
    if (at + 4 > length) return null;
    const value = view.getInt32(at);
    if (value !== NEW_ENTRY) {
      items.push(value);
      at += 4;
      continue;
    }
    if (at + ENTRY_FIXED > length) return null;
    const dataLength = view.getUint32(at + 33);
    if (at + ENTRY_FIXED + dataLength > length) return null;
    items.push({
      oidStart: start + at + 4,
      type: view.getUint8(at + 24),
      base: view.getInt32(at + 25),
      size: view.getUint32(at + 29),
      dataStart: start + at + ENTRY_FIXED,
      dataLength,
    });
    at += ENTRY_FIXED + dataLength;
  }
  if (at !== length) return null;
  return { commitStart: start, treeStart: start + 20, time: view.getFloat64(40), items };
}

function sha1(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(bytes).digest());
}
