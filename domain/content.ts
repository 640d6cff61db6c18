import { createHash } from "node:crypto";
import { DomainError } from "./errors.ts";
import { hiddenCharacterProblem } from "./plain_text.ts";
import type { Privacybijsluiter } from "./privacybijsluiter.ts";

/** The file name of the agreement text inside a version directory. */
export const AGREEMENT_FILE = "agreement.md";
/** The file name of the agreement's title inside a version directory. */
export const TITLE_FILE = "title.txt";
/** The directory of the privacybijsluiters inside a version directory. */
export const PRODUCTS_DIR = "products";

/** The exact files of one version, as stored under `version/`. */
export interface VersionContent {
  /** Paths relative to the version directory, to their canonical bytes. */
  files: Map<string, Uint8Array>;
  /** The Git tree oid of the version directory. */
  oid: string;
  /** SHA-256 of the version's manifest (see {@link contentSha256}). */
  contentSha256: string;
}

const encoder = new TextEncoder();

/**
 * The canonical form of an agreement text: line endings LF, Unicode NFC,
 * trailing white space removed from every line, exactly one final newline.
 * Resending the same text with CRLF or decomposed accents is no change.
 */
export function canonicalText(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").normalize("NFC").split("\n");
  return lines.map((line) => line.trimEnd()).join("\n").trimEnd() + "\n";
}

/** The canonical bytes of a privacybijsluiter: its validated JSON, two-space indented. */
export function canonicalProduct(product: Privacybijsluiter): string {
  return JSON.stringify(product, null, 2).normalize("NFC") + "\n";
}

/** The canonical form of a title: one line, Unicode NFC, no surrounding space. */
export function canonicalTitle(title: string): string {
  return title.normalize("NFC").replace(/\s+/g, " ").trim() + "\n";
}

/**
 * Builds the files of one version with their Git tree oid and content hash.
 * The title is part of the content, so the hash a signatory confirms covers
 * everything the confirmation page shows. A text or privacybijsluiter with a
 * direction control or an invisible character is refused (`invalid_input`):
 * a reviewer would see something other than what is signed.
 */
export function versionContent(
  input: { title: string; text: string; products: Privacybijsluiter[] },
): VersionContent {
  requireShownAsStored(input);
  const files = new Map<string, Uint8Array>();
  files.set(AGREEMENT_FILE, encoder.encode(canonicalText(input.text)));
  files.set(TITLE_FILE, encoder.encode(canonicalTitle(input.title)));
  for (const product of input.products) {
    files.set(
      `${PRODUCTS_DIR}/${product.product.id}.json`,
      encoder.encode(canonicalProduct(product)),
    );
  }
  return { files, oid: treeOid(files), contentSha256: contentSha256(files) };
}

/**
 * Refuses an agreement text or privacybijsluiter holding a character that
 * would make a reader see something other than what is stored (see
 * `findHiddenCharacter`); the error names the line or product and the code point.
 */
export function requireShownAsStored(
  input: { text: string; products: Privacybijsluiter[] },
): void {
  const inText = hiddenCharacterProblem(canonicalText(input.text));
  if (inText !== null) {
    throw new DomainError("invalid_input", `Cannot accept the agreement text: ${inText}`);
  }
  for (const product of input.products) {
    const inProduct = hiddenCharacterProblem(canonicalProduct(product));
    if (inProduct !== null) {
      throw new DomainError(
        "invalid_input",
        `Cannot accept the privacybijsluiter of product "${product.product.id}": ${inProduct}`,
      );
    }
  }
}

/**
 * SHA-256 over the version's manifest: one line `<sha256 of file>  <path>`
 * per file, sorted by path, as `sha256sum` prints it. An auditor recomputes it
 * with `find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum`
 * inside the version directory.
 */
export function contentSha256(files: Map<string, Uint8Array>): string {
  const paths = [...files.keys()].sort(compareBytes);
  const manifest = paths.map((path) => `${sha256Hex(files.get(path)!)}  ${path}\n`).join("");
  return sha256Hex(encoder.encode(manifest));
}

/** The SHA-256 of bytes as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The Git tree oid of a set of files given by relative paths: what `git
 * rev-parse <commit>:<dir>` prints for a directory holding exactly these files.
 */
export function treeOid(files: Map<string, Uint8Array>): string {
  const entries = new Map<string, { mode: string; oid: Uint8Array }>();
  const subtrees = new Map<string, Map<string, Uint8Array>>();
  for (const [path, bytes] of files) {
    const slash = path.indexOf("/");
    if (slash === -1) {
      entries.set(path, { mode: "100644", oid: objectId("blob", bytes) });
      continue;
    }
    const dir = path.slice(0, slash);
    const sub = subtrees.get(dir) ?? new Map<string, Uint8Array>();
    sub.set(path.slice(slash + 1), bytes);
    subtrees.set(dir, sub);
  }
  for (const [dir, sub] of subtrees) {
    entries.set(dir, { mode: "40000", oid: hexToBytes(treeOid(sub)) });
  }
  const sortKey = (name: string) => entries.get(name)!.mode === "40000" ? `${name}/` : name;
  const names = [...entries.keys()].sort((a, b) => compareBytes(sortKey(a), sortKey(b)));
  const parts: Uint8Array[] = [];
  for (const name of names) {
    const entry = entries.get(name)!;
    parts.push(encoder.encode(`${entry.mode} ${name}\0`), entry.oid);
  }
  return bytesToHex(objectId("tree", concat(parts)));
}

function objectId(type: "blob" | "tree", body: Uint8Array): Uint8Array {
  const hash = createHash("sha1");
  hash.update(encoder.encode(`${type} ${body.length}\0`));
  hash.update(body);
  return new Uint8Array(hash.digest());
}

function compareBytes(a: string, b: string): number {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16));
}

function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
