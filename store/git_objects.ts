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

/** Computes the oid of an object and keeps its body for writing. */
export function encodeObject(type: ObjectType, body: Uint8Array): EncodedObject {
  const hash = createHash("sha1");
  hash.update(objectHeader(type, body.length));
  hash.update(body);
  return { oid: hash.digest("hex"), type, body };
}

/** The loose-object file content: the header and body, deflated. */
export function deflateObject(object: EncodedObject): Uint8Array {
  const header = objectHeader(object.type, object.body.length);
  const raw = new Uint8Array(header.length + object.body.length);
  raw.set(header);
  raw.set(object.body, header.length);
  return deflateSync(raw, { level: 1 });
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

/** Serialises tree entries in Git's order (a subtree sorts as if its name ended in `/`). */
export function serializeTree(entries: Iterable<TreeEntry>): Uint8Array {
  const sorted = [...entries].map((entry) => ({ entry, key: treeSortKey(entry) }));
  sorted.sort((a, b) => compareBytes(a.key, b.key));
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const { entry } of sorted) {
    const part = encodeTreeEntry(entry);
    parts.push(part);
    size += part.length;
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return body;
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

function treeSortKey(entry: TreeEntry): Uint8Array {
  return encoder.encode(entry.mode === TREE_MODE ? entry.name + "/" : entry.name);
}

function encodeTreeEntry(entry: TreeEntry): Uint8Array {
  const head = encoder.encode(`${entry.mode} ${entry.name}\0`);
  const part = new Uint8Array(head.length + 20);
  part.set(head);
  part.set(fromHex(entry.oid), head.length);
  return part;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

function fromHex(hex: string): Uint8Array {
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new Error(`Cannot encode oid "${hex}": not 40 hex digits`);
  const bytes = new Uint8Array(20);
  for (let i = 0; i < 20; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
