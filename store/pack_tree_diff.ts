/**
 * What a tree changed against its previous version at the same path, read
 * straight from the two tree bodies in Git's tree order without parsing
 * the entries that are equal.
 */
import { hexAt } from "./pack_columns.ts";

/** An entry of a new tree that differs from the entry of the same name in the old tree. */
export interface ChangedEntry {
  oid: string;
  isTree: boolean;
  /** The old entry's oid when it was a directory: the base to diff a new directory against. */
  oldTree: string | null;
  /** The old entry's oid when it was a file: the delta base of a new file. */
  oldBlob: string | null;
}

interface RawEntry {
  start: number;
  nameStart: number;
  nameEnd: number;
  end: number;
  kind: "tree" | "blob" | "gitlink";
}

/**
 * The entries of tree body `next` that are not byte-identical in tree body
 * `old`, found by walking both in Git's tree order; only those are decoded.
 */
export function changedEntries(next: Uint8Array, old: Uint8Array): ChangedEntry[] {
  const changes: ChangedEntry[] = [];
  let a = rawEntry(next, 0);
  let b = rawEntry(old, 0);
  while (a !== null) {
    if (b !== null && sameBytes(next, a.start, a.end, old, b.start, b.end)) {
      a = rawEntry(next, a.end);
      b = rawEntry(old, b.end);
      continue;
    }
    const order = b === null ? -1 : compareNames(next, a, old, b);
    if (order > 0 && b !== null) {
      b = rawEntry(old, b.end);
      continue;
    }
    const previous = order === 0 && b !== null ? b : null;
    if (a.kind !== "gitlink") {
      const oldOid = previous === null ? null : hexAt(old, previous.nameEnd + 1);
      changes.push({
        oid: hexAt(next, a.nameEnd + 1),
        isTree: a.kind === "tree",
        oldTree: previous?.kind === "tree" ? oldOid : null,
        oldBlob: previous?.kind === "blob" ? oldOid : null,
      });
    }
    a = rawEntry(next, a.end);
    if (previous !== null && b !== null) b = rawEntry(old, b.end);
  }
  return changes;
}

function rawEntry(body: Uint8Array, start: number): RawEntry | null {
  if (start >= body.length) return null;
  const space = body.indexOf(0x20, start);
  const nul = space < 0 ? -1 : body.indexOf(0, space + 1);
  if (space < 0 || nul < 0 || nul + 21 > body.length) {
    throw new Error(`Cannot parse tree: entry at byte ${start} is truncated`);
  }
  const modeLength = space - start;
  const kind = modeLength === 5 && body[start] === 0x34
    ? "tree"
    : modeLength === 6 && body[start] === 0x31 && body[start + 1] === 0x36
    ? "gitlink"
    : "blob";
  return { start, nameStart: space + 1, nameEnd: nul, end: nul + 21, kind };
}

/** Git's tree order: names compared bytewise, a directory as if it ended in `/`. */
function compareNames(x: Uint8Array, a: RawEntry, y: Uint8Array, b: RawEntry): number {
  const aLength = a.nameEnd - a.nameStart;
  const bLength = b.nameEnd - b.nameStart;
  const length = Math.min(aLength, bLength);
  for (let i = 0; i < length; i++) {
    const diff = (x[a.nameStart + i] ?? 0) - (y[b.nameStart + i] ?? 0);
    if (diff !== 0) return diff;
  }
  const aNext = aLength > length ? x[a.nameStart + length] ?? 0 : a.kind === "tree" ? 0x2f : 0;
  const bNext = bLength > length ? y[b.nameStart + length] ?? 0 : b.kind === "tree" ? 0x2f : 0;
  if (aNext !== bNext) return aNext - bNext;
  return aLength === bLength ? 0 : aLength - bLength;
}

function sameBytes(
  x: Uint8Array,
  xStart: number,
  xEnd: number,
  y: Uint8Array,
  yStart: number,
  yEnd: number,
): boolean {
  if (xEnd - xStart !== yEnd - yStart) return false;
  for (let i = xEnd - 1, j = yEnd - 1; i >= xStart; i--, j--) if (x[i] !== y[j]) return false;
  return true;
}
