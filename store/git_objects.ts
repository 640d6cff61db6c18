/**
 * Git object encoding: blobs, trees and commits as Git stores them, their
 * SHA-1 oids and the zlib form of loose objects.
 * See https://git-scm.com/book/en/v2/Git-Internals-Git-Objects.
 */
import { createHash } from "node:crypto";
import { constants, deflateSync, inflateSync } from "node:zlib";

/** The object types the history uses. */
export type ObjectType = "blob" | "tree" | "commit";

/** Tree entry mode of a regular file. */
export const FILE_MODE = "100644";
/** Tree entry mode of a subdirectory. */
export const TREE_MODE = "40000";

/** One entry of a tree object. */
export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

/** An object in its raw form together with its oid. */
export interface EncodedObject {
  oid: string;
  type: ObjectType;
  /** The object content without the `<type> <size>\0` prefix. */
  body: Uint8Array;
  /**
   * An earlier version of the same tree written by the same group of
   * commits, which a backend may store this one as a delta against.
   */
  deltaBase?: EncodedObject;
}

/** The fields of a commit object. */
export interface CommitFields {
  tree: string;
  parents: string[];
  /** Ready identity line: `Name <email> <seconds> +0000`. */
  author: string;
  committer: string;
  message: string;
}

/** A commit object as parsed back. */
export interface ParsedCommit extends CommitFields {
  /** The armored signature, or null when the commit is unsigned. */
  signature: string | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Compressed bytes enough for the `<type> <size>\0` header of a loose object.
const HEADER_PROBE = 64;
const MAX_EXACT_CHUNK = 64 << 20;
/** Loose objects smaller than this are written uncompressed: see {@link deflateObject}. */
const STORED_BELOW = 4096;
const HEX_VALUES = hexValues();
const encodedEntries = new WeakMap<TreeEntry, EncodedEntry>();

/** Computes the oid of an object and keeps its body for writing. */
export function encodeObject(type: ObjectType, body: Uint8Array): EncodedObject {
  const hash = createHash("sha1");
  hash.update(objectHeader(type, body.length));
  hash.update(body);
  return { oid: hash.digest("hex"), type, body };
}

/**
 * The loose-object file content: the header and body as a zlib stream.
 * Objects under {@link STORED_BELOW} bytes (a status file, a board's tree, a
 * commit) go into zlib's stored blocks: compressing them saves a few dozen
 * bytes but costs a zlib call, which dominates appending small objects. Git
 * reads either form.
 */
export function deflateObject(object: EncodedObject): Uint8Array {
  const header = objectHeader(object.type, object.body.length);
  const size = header.length + object.body.length;
  if (size < STORED_BELOW) return storedZlib(header, object.body);
  const raw = new Uint8Array(size);
  raw.set(header);
  raw.set(object.body, header.length);
  return deflateSync(raw, { level: 1 });
}

/**
 * `header` and `body` as one zlib stream of a single stored block (RFC 1950
 * and RFC 1951 §3.2.4): the two header bytes, the block's LEN and NLEN, the
 * bytes as they are and their Adler-32.
 */
function storedZlib(header: Uint8Array, body: Uint8Array): Uint8Array {
  const size = header.length + body.length;
  const out = new Uint8Array(size + 11);
  out[0] = 0x78;
  out[1] = 0x01;
  out[2] = 0x01;
  out[3] = size & 0xff;
  out[4] = size >>> 8;
  out[5] = ~size & 0xff;
  out[6] = (~size >>> 8) & 0xff;
  out.set(header, 7);
  out.set(body, 7 + header.length);
  new DataView(out.buffer).setUint32(size + 7, adler32(out.subarray(7, size + 7)));
  return out;
}

/**
 * The bytes of a zlib stream made only of stored blocks, or null when it
 * holds a compressed block (or is not such a stream): reading them is a
 * copy, no zlib call. Checks the Adler-32.
 */
function storedContent(file: Uint8Array): Uint8Array | null {
  if (file.length < 11 || file[0] !== 0x78 || ((file[0] << 8) | (file[1] ?? 0)) % 31 !== 0) {
    return null;
  }
  if (((file[1] ?? 0) & 0x20) !== 0) return null;
  const parts: Array<[number, number]> = [];
  let total = 0;
  let at = 2;
  for (let final = false; !final;) {
    const flags = file[at] ?? 0xff;
    if ((flags & 0x06) !== 0 || at + 5 > file.length) return null;
    final = (flags & 0x01) === 1;
    const length = (file[at + 1] ?? 0) | ((file[at + 2] ?? 0) << 8);
    const inverse = (file[at + 3] ?? 0) | ((file[at + 4] ?? 0) << 8);
    if ((length ^ 0xffff) !== inverse || at + 5 + length > file.length) return null;
    parts.push([at + 5, length]);
    total += length;
    at += 5 + length;
  }
  if (at + 4 !== file.length) return null;
  const raw = parts.length === 1
    ? file.subarray(parts[0]![0], parts[0]![0] + total)
    : new Uint8Array(total);
  if (parts.length > 1) {
    let offset = 0;
    for (const [start, length] of parts) {
      raw.set(file.subarray(start, start + length), offset);
      offset += length;
    }
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  return view.getUint32(at) === adler32(raw) ? raw : null;
}

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 bytes is the longest run before the sums must be reduced (RFC 1950).
  for (let start = 0; start < bytes.length; start += 5552) {
    const end = Math.min(bytes.length, start + 5552);
    for (let i = start; i < end; i++) {
      a += bytes[i] ?? 0;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Reads a loose-object file and checks that its content hashes to `oid`, so a
 * torn or foreign file is never taken for the object.
 */
export function inflateObject(oid: string, file: Uint8Array): EncodedObject {
  const raw = inflateLoose(file);
  const nul = raw.indexOf(0);
  const header = nul < 0 ? "" : decoder.decode(raw.subarray(0, nul));
  const match = /^(blob|tree|commit|tag) (\d+)$/.exec(header);
  if (match === null || Number(match[2]) !== raw.length - nul - 1) {
    throw new Error(`Cannot read object ${oid}: its header "${header.slice(0, 40)}" is invalid`);
  }
  if (match[1] === "tag") throw new Error(`Cannot read object ${oid}: tags are not supported`);
  const object = encodeObject(match[1] as ObjectType, tightBody(raw, nul + 1));
  if (object.oid !== oid) {
    throw new Error(`Cannot read object ${oid}: its content hashes to ${object.oid}`);
  }
  return object;
}

/**
 * Inflates a loose object into a buffer of exactly its size: the header,
 * inflated first from the file's first bytes, gives the size. Without it
 * zlib writes into 16 KiB chunks (a small object) or into chunks it then
 * joins (a large one), and reading many objects leaves that much garbage
 * behind. Falls back to a plain inflate when the header is not found there.
 */
function inflateLoose(file: Uint8Array): Uint8Array {
  const stored = storedContent(file);
  if (stored !== null) return stored;
  let size = -1;
  try {
    const head = inflateSync(file.subarray(0, HEADER_PROBE), {
      finishFlush: constants.Z_SYNC_FLUSH,
      chunkSize: HEADER_PROBE * 2,
    });
    const nul = head.indexOf(0);
    const match = nul < 0
      ? null
      : /^[a-z]+ (\d{1,10})$/.exec(decoder.decode(head.subarray(0, nul)));
    if (match !== null) size = nul + 1 + Number(match[1]);
  } catch {
    // A damaged start fails again below, with zlib's own message.
  }
  const inflated = size > 0 && size <= MAX_EXACT_CHUNK
    ? inflateSync(file, { chunkSize: Math.max(64, size) })
    : inflateSync(file);
  return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
}

/**
 * The body from `start` on: a view when the inflated bytes fill most of
 * their buffer, a copy when they share a larger one (Node's pool for small
 * buffers), so that a kept body never holds more memory than its own.
 */
function tightBody(raw: Uint8Array, start: number): Uint8Array {
  const body = raw.subarray(start);
  return raw.buffer.byteLength > 2 * body.length ? body.slice() : body;
}

/**
 * Serialises tree entries in Git's order (a subtree sorts as if its name ended
 * in `/`). Each entry's bytes and sort key are kept with the entry object, so
 * rewriting a large directory in which one entry changed encodes only that one.
 */
export function serializeTree(entries: Iterable<TreeEntry>): Uint8Array {
  const encoded = Array.from(entries, encodedEntry);
  encoded.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let size = 0;
  for (const entry of encoded) size += entry.bytes.length;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const entry of encoded) {
    body.set(entry.bytes, offset);
    offset += entry.bytes.length;
  }
  return body;
}

/** A serialised tree and where each entry's oid lies in it, by entry name. */
export interface IndexedTree {
  body: Uint8Array;
  oidOffsets: Map<string, number>;
}

/** {@link serializeTree} that also notes where each oid lies. */
export function serializeIndexedTree(entries: Iterable<TreeEntry>): IndexedTree {
  const body = serializeTree(entries);
  const oidOffsets = new Map<string, number>();
  for (let offset = 0; offset < body.length;) {
    const space = body.indexOf(0x20, offset);
    const nul = body.indexOf(0, space + 1);
    oidOffsets.set(decoder.decode(body.subarray(space + 1, nul)), nul + 1);
    offset = nul + 21;
  }
  return { body, oidOffsets };
}

/**
 * The tree `previous` with the oids of some entries replaced, each entry
 * keeping its name and mode; null when a name is not in it. Git orders
 * entries by name and mode only, so nothing moves.
 */
export function replaceTreeOids(
  previous: IndexedTree,
  oids: Iterable<[string, string]>,
): IndexedTree | null {
  const body = previous.body.slice();
  for (const [name, oid] of oids) {
    const offset = previous.oidOffsets.get(name);
    if (offset === undefined) return null;
    body.set(fromHex(oid), offset);
  }
  return { body, oidOffsets: previous.oidOffsets };
}

/** Parses a tree object body. */
export function parseTree(body: Uint8Array): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const nul = body.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > body.length) {
      throw new Error(`Cannot parse tree: entry at byte ${offset} is truncated`);
    }
    entries.push({
      mode: decoder.decode(body.subarray(offset, space)),
      name: decoder.decode(body.subarray(space + 1, nul)),
      oid: toHex(body.subarray(nul + 1, nul + 21)),
    });
    offset = nul + 21;
  }
  return entries;
}

/** The commit text without a signature: exactly what an SSH signature signs. */
export function commitPayload(fields: CommitFields): string {
  return commitHeaders(fields).join("\n") + "\n\n" + fields.message;
}

/** The commit text with a `gpgsig` header carrying the armored signature. */
export function signedCommitText(fields: CommitFields, armored: string): string {
  const lines = armored.replace(/\n$/, "").split("\n");
  const gpgsig = "gpgsig " + lines.join("\n ");
  return [...commitHeaders(fields), gpgsig].join("\n") + "\n\n" + fields.message;
}

/** Parses a commit object body; `gpgsig` continuation lines are joined back. */
export function parseCommit(body: Uint8Array): ParsedCommit {
  const text = decoder.decode(body);
  const split = text.indexOf("\n\n");
  const headerText = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? "" : text.slice(split + 2);
  const headers = parseHeaders(headerText);
  const first = (key: string): string => {
    const value = headers.find(([name]) => name === key)?.[1];
    if (value === undefined) throw new Error(`Cannot parse commit: header "${key}" is missing`);
    return value;
  };
  const signature = headers.find(([name]) => name === "gpgsig")?.[1];
  return {
    tree: first("tree"),
    parents: headers.filter(([name]) => name === "parent").map(([, value]) => value),
    author: first("author"),
    committer: first("committer"),
    message,
    signature: signature === undefined ? null : signature + "\n",
  };
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

function commitHeaders(fields: CommitFields): string[] {
  return [
    `tree ${fields.tree}`,
    ...fields.parents.map((parent) => `parent ${parent}`),
    `author ${fields.author}`,
    `committer ${fields.committer}`,
  ];
}

function parseHeaders(text: string): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (const line of text.split("\n")) {
    const last = headers.at(-1);
    if (line.startsWith(" ") && last !== undefined) {
      last[1] += "\n" + line.slice(1);
      continue;
    }
    const space = line.indexOf(" ");
    headers.push(space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)]);
  }
  return headers;
}

function objectHeader(type: ObjectType, size: number): Uint8Array {
  return encoder.encode(`${type} ${size}\0`);
}

/** A tree entry as bytes, with a key whose string order is Git's byte order. */
interface EncodedEntry {
  mode: string;
  name: string;
  oid: string;
  key: string;
  bytes: Uint8Array;
}

function encodedEntry(entry: TreeEntry): EncodedEntry {
  const cached = encodedEntries.get(entry);
  if (
    cached !== undefined && cached.oid === entry.oid && cached.name === entry.name &&
    cached.mode === entry.mode
  ) {
    return cached;
  }
  const head = encoder.encode(`${entry.mode} ${entry.name}\0`);
  const bytes = new Uint8Array(head.length + 20);
  bytes.set(head);
  bytes.set(fromHex(entry.oid), head.length);
  const fresh = { mode: entry.mode, name: entry.name, oid: entry.oid, key: sortKey(entry), bytes };
  encodedEntries.set(entry, fresh);
  return fresh;
}

/**
 * The name (with `/` after a subtree's) as a string whose code units are its
 * UTF-8 bytes, so that comparing two keys as strings compares the bytes.
 */
function sortKey(entry: TreeEntry): string {
  const name = entry.mode === TREE_MODE ? entry.name + "/" : entry.name;
  // deno-lint-ignore no-control-regex -- ASCII names are their own UTF-8 bytes
  if (/^[\u0000-\u007f]*$/.test(name)) return name;
  let key = "";
  for (const byte of encoder.encode(name)) key += String.fromCharCode(byte);
  return key;
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array {
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new Error(`Cannot encode oid "${hex}": not 40 hex digits`);
  const bytes = new Uint8Array(20);
  for (let i = 0; i < 20; i++) {
    bytes[i] = ((HEX_VALUES[hex.charCodeAt(i * 2)] ?? 0) << 4) |
      (HEX_VALUES[hex.charCodeAt(i * 2 + 1)] ?? 0);
  }
  return bytes;
}

function hexValues(): Uint8Array {
  const values = new Uint8Array(128);
  for (let i = 0; i < 16; i++) values[i.toString(16).charCodeAt(0)] = i;
  return values;
}
