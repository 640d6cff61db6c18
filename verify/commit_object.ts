/**
 * Commit objects as an auditor reads them: the headers, the SSH signature,
 * the exact bytes that signature covers, and the message's trailers.
 * Format: https://git-scm.com/docs/signature-format
 */

/** A person or service line of a commit: `Name <email> <seconds> <zone>`. */
export interface Ident {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
}

/** A commit object taken apart. */
export interface CommitObject {
  oid: string;
  tree: string;
  parents: string[];
  author: Ident;
  committer: Ident;
  /** The armored signature of the `gpgsig` header, or null when unsigned. */
  signature: string | null;
  /** The bytes the signature covers: the object without its `gpgsig` header. */
  payload: Uint8Array;
  /** The whole message. */
  message: string;
  /** The first line of the message. */
  subject: string;
  /** The last paragraph's `Key: value` lines, in order; empty when there are none. */
  trailers: Array<[string, string]>;
}

const KNOWN_HEADERS = new Set(["tree", "parent", "author", "committer", "gpgsig"]);
const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*): (.*)$/;
const IDENT = /^(.*) <([^<>]*)> (\d+) [+-]\d{4}$/;
const OID = /^[0-9a-f]{40}$/;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a commit object body (without the `commit <size>\0` prefix). Throws
 * when a header is missing, repeated or unknown, or the text is not UTF-8.
 */
export function parseCommitObject(oid: string, body: Uint8Array): CommitObject {
  const fail = (why: string) => new Error(`Cannot read commit ${oid}: ${why}`);
  const split = findBlankLine(body);
  if (split < 0) throw fail("it has no message");
  const lines = splitLines(body.subarray(0, split));
  const headers: Array<{ name: string; value: string }> = [];
  const kept: Uint8Array[] = [];
  let inSignature = false;
  for (const line of lines) {
    if (line[0] === SPACE) {
      const last = headers.at(-1);
      if (last === undefined) throw fail("it starts with a continuation line");
      last.value += "\n" + decode(line.subarray(1), fail);
      if (!inSignature) kept.push(line);
      continue;
    }
    const text = decode(line, fail);
    const space = text.indexOf(" ");
    const name = space < 0 ? text : text.slice(0, space);
    if (!KNOWN_HEADERS.has(name)) throw fail(`it has an unexpected header "${name}"`);
    headers.push({ name, value: space < 0 ? "" : text.slice(space + 1) });
    inSignature = name === "gpgsig";
    if (!inSignature) kept.push(line);
  }
  const messageBytes = body.subarray(split + 2);
  const message = decode(messageBytes, fail);
  const one = (name: string): string => {
    const found = headers.filter((header) => header.name === name);
    if (found.length !== 1) throw fail(`it has ${found.length} "${name}" headers, not 1`);
    return found[0]!.value;
  };
  const tree = one("tree");
  const parents = headers.filter((h) => h.name === "parent").map((h) => h.value);
  for (const id of [tree, ...parents]) {
    if (!OID.test(id)) throw fail(`"${id}" is not an object id`);
  }
  const signatures = headers.filter((header) => header.name === "gpgsig");
  if (signatures.length > 1) throw fail("it has more than one gpgsig header");
  return {
    oid,
    tree,
    parents,
    author: parseIdent(one("author"), fail),
    committer: parseIdent(one("committer"), fail),
    signature: signatures[0] === undefined ? null : signatures[0].value + "\n",
    payload: joinPayload(kept, messageBytes),
    message,
    subject: message.split("\n", 1)[0] ?? "",
    trailers: parseTrailers(message),
  };
}

/**
 * The trailers of a message: its last paragraph, when that is not the first
 * and every line of it is `Key: value`.
 */
export function parseTrailers(message: string): Array<[string, string]> {
  const paragraphs = message.replace(/\n+$/, "").split(/\n\n+/);
  if (paragraphs.length < 2) return [];
  const matches = (paragraphs.at(-1) ?? "").split("\n").map((line) => TRAILER_LINE.exec(line));
  if (matches.some((match) => match === null)) return [];
  return matches.map((match): [string, string] => [match![1]!, match![2]!]);
}

function parseIdent(line: string, fail: (why: string) => Error): Ident {
  const match = IDENT.exec(line);
  if (match === null) throw fail(`its ident line "${line}" is malformed`);
  return { name: match[1]!, email: match[2]!, time: Number(match[3]) };
}

function findBlankLine(body: Uint8Array): number {
  for (let i = 0; i + 1 < body.length; i++) {
    if (body[i] === NEWLINE && body[i + 1] === NEWLINE) return i;
  }
  return -1;
}

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === NEWLINE) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return lines;
}

function joinPayload(lines: Uint8Array[], message: Uint8Array): Uint8Array {
  const size = lines.reduce((n, line) => n + line.length + 1, 0) + 1 + message.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const line of lines) {
    out.set(line, offset);
    out[offset + line.length] = NEWLINE;
    offset += line.length + 1;
  }
  out[offset] = NEWLINE;
  out.set(message, offset + 1);
  return out;
}

function decode(bytes: Uint8Array, fail: (why: string) => Error): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw fail("it is not valid UTF-8");
  }
}
