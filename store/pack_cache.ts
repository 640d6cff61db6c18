/**
 * Pack entries of the history, computed once per commit and kept, so that a
 * clone streams prepared bytes instead of walking and compressing every
 * object. Derived from the history alone through {@link HistoryStore}; it is
 * never a source of truth and is rebuilt by reading the history again.
 *
 * The history is linear (`main` only moves fast-forward), so commits get
 * positions 0 (root) to n − 1. Each commit lists the objects of its tree
 * that differ from its parent's tree at the same path, recursing only into
 * changed directories, plus the commit itself. Each object becomes one entry
 * the first time it appears: a delta against the previous version of the
 * same path (its chain at most `maxDepth` long; past that, a delta against
 * the chain's whole base, or a whole object), deflated.
 */
import type { HistoryStore } from "./history.ts";
import { parseCommit } from "./git_objects.ts";
import { encodeDelta } from "./delta.ts";
import { PACK_TYPE, zlibEntry } from "./pack_writer.ts";

/** Options of {@link PackCache}. */
export interface PackCacheOptions {
  /**
   * Bytes of entry data kept in memory. Entries beyond it are recomputed each
   * time they are sent. Default 128 MiB.
   */
  maxBytes?: number;
  /** Longest delta chain in a served pack. Default 50, as git's `pack.depth`. */
  maxDepth?: number;
  /** Bytes of object bodies kept as delta bases. Default 24 MiB. */
  bodyCacheBytes?: number;
}

/** A deflated whole object. */
export interface WholeEntry {
  size: number;
  data: Uint8Array;
}

type ObjectKind = "blob" | "tree" | "commit";

const SLAB = 4 << 20;
const BATCH = 256;
const PARALLEL_WALKS = 16;
const MIN_DELTA_TARGET = 32;
const KIND_CODE: Record<ObjectKind, number> = {
  commit: PACK_TYPE.commit,
  tree: PACK_TYPE.tree,
  blob: PACK_TYPE.blob,
};

/** An object a commit's tree changed, with the previous object at its path. */
interface Change {
  oid: string;
  kind: "tree" | "blob";
  base: string | null;
}

/** A commit's body and changes, read before its entries are made. */
interface ReadAhead {
  body: Uint8Array;
  changes: Change[];
}

const EMPTY_READ_AHEAD: ReadAhead = { body: new Uint8Array(), changes: [] };

interface FreshCommit {
  oid: string;
  tree: string;
  time: number;
}

/** Prepared pack entries of a linear history, extended as it grows. */
export class PackCache {
  #store: HistoryStore<unknown>;
  #maxBytes: number;
  #maxDepth: number;
  #bodies: BodyCache;
  #reading = new Map<string, Promise<{ type: string; body: Uint8Array }>>();
  #queue: Promise<unknown> = Promise.resolve();

  #commits = new OidTable(true);
  #commitTrees = new OidTable(false);
  #commitTimes: number[] = [];
  #listStarts = new IntColumn([0]);
  #lists = new IntColumn();

  #oids = new OidTable(true);
  #types = new IntColumn();
  #sizes = new IntColumn();
  #bases = new IntColumn();
  #depths = new IntColumn();
  #introduced = new IntColumn();
  #slabOf = new IntColumn();
  #startOf = new IntColumn();
  #lengthOf = new IntColumn();
  #slabs: Uint8Array[] = [];
  #slabUsed = SLAB;
  #keptBytes = 0;

  constructor(store: HistoryStore<unknown>, options: PackCacheOptions = {}) {
    this.#store = store;
    this.#maxBytes = options.maxBytes ?? 128 << 20;
    this.#maxDepth = options.maxDepth ?? 50;
    this.#bodies = new BodyCache(options.bodyCacheBytes ?? 24 << 20);
  }

  /** Number of commits covered. */
  get commitCount(): number {
    return this.#commits.length;
  }

  /** Number of entries (distinct objects) covered. */
  get entryCount(): number {
    return this.#oids.length;
  }

  /** Bytes of entry data held in memory. */
  get keptBytes(): number {
    return this.#keptBytes;
  }

  /**
   * Covers every commit up to `head`. Calls run one after another; rejects
   * when `head` does not extend the commits already covered.
   */
  sync(head: string | null): Promise<void> {
    const run = this.#queue.then(() => this.#extend(head));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The position of a covered commit, or undefined. */
  position(oid: string): number | undefined {
    return this.#commits.find(oid);
  }

  /** The oid of the commit at `position`. */
  commitOid(position: number): string {
    return this.#commits.oidAt(position);
  }

  /** The root tree oid of the commit at `position`. */
  commitTree(position: number): string {
    return this.#commitTrees.oidAt(position);
  }

  /** The committer time (seconds since the epoch) of the commit at `position`. */
  commitTime(position: number): number {
    return at(this.#commitTimes, position);
  }

  /** The entries of the commit at `position`: the commit first, then what its tree changed. */
  entriesOf(position: number): Int32Array {
    return this.#lists.range(this.#listStarts.get(position), this.#listStarts.get(position + 1));
  }

  /** The entry of an object, or undefined when no covered commit reaches it. */
  indexOf(oid: string): number | undefined {
    return this.#oids.find(oid);
  }

  /** The object's oid. */
  oidOf(entry: number): string {
    return this.#oids.oidAt(entry);
  }

  /** The pack type code of the object (1 commit, 2 tree, 3 blob). */
  typeOf(entry: number): number {
    return this.#types.get(entry);
  }

  /** The delta base entry, or −1 for a whole object. */
  baseOf(entry: number): number {
    return this.#bases.get(entry);
  }

  /** The size the pack header announces: of the delta, or of the whole object. */
  sizeOf(entry: number): number {
    return this.#sizes.get(entry);
  }

  /** The position of the first commit that reaches the object. */
  introducedAt(entry: number): number {
    return this.#introduced.get(entry);
  }

  /** The entry's deflated data when it is kept in memory, otherwise null. */
  keptData(entry: number): Uint8Array | null {
    const slab = this.#slabOf.get(entry);
    if (slab < 0) return null;
    const start = this.#startOf.get(entry);
    return at(this.#slabs, slab).subarray(start, start + this.#lengthOf.get(entry));
  }

  /** The entry's deflated data, recomputed from the history when it is not kept. */
  async data(entry: number): Promise<Uint8Array> {
    const kept = this.keptData(entry);
    if (kept !== null) return kept;
    const body = await this.#bodyOf(entry);
    const base = this.baseOf(entry);
    if (base < 0) return zlibEntry(body);
    return zlibEntry(encodeDelta(await this.#bodyOf(base), body));
  }

  /** The object whole and deflated, for a delta whose base the receiver lacks. */
  async whole(entry: number): Promise<WholeEntry> {
    if (this.baseOf(entry) < 0) return { size: this.sizeOf(entry), data: await this.data(entry) };
    const body = await this.#bodyOf(entry);
    return { size: body.length, data: zlibEntry(body) };
  }

  /**
   * The entries of every object below `tree` (itself included) that is not
   * at the same path below `against` (null: every object).
   */
  async treeEntries(tree: string, against: string | null): Promise<number[]> {
    const found: number[] = [];
    await this.#walkDiff(tree, against, (oid) => {
      found.push(this.#known(oid));
    });
    return found;
  }

  async #extend(head: string | null): Promise<void> {
    if (head === null || this.#commits.find(head) !== undefined) return;
    const fresh: FreshCommit[] = [];
    let next: string | undefined = head;
    while (next !== undefined && this.#commits.find(next) === undefined) {
      const { type, body } = await this.#store.readObject(next);
      if (type !== "commit") throw new Error(`Cannot serve ${next}: it is a ${type}, not a commit`);
      const commit = parseCommit(body);
      if (commit.parents.length > 1) {
        throw new Error(`Cannot serve commit ${next}: merge commits are not supported`);
      }
      fresh.push({ oid: next, tree: commit.tree, time: identTime(commit.committer) });
      next = commit.parents[0];
    }
    const count = this.#commits.length;
    const last = count === 0 ? undefined : this.#commits.oidAt(count - 1);
    if (next !== last) {
      throw new Error(`Cannot serve ${head}: it does not extend the served history at ${last}`);
    }
    fresh.reverse();
    for (let start = 0; start < fresh.length; start += BATCH) {
      const batch = fresh.slice(start, start + BATCH);
      const trees = this.#commitTrees.length;
      let previous = trees === 0 ? null : this.#commitTrees.oidAt(trees - 1);
      const pairs = batch.map((commit) => {
        const pair: [FreshCommit, string | null] = [commit, previous];
        previous = commit.tree;
        return pair;
      });
      const read = await mapLimited(pairs, PARALLEL_WALKS, async ([commit, against]) => ({
        body: await this.#read(commit.oid, "commit"),
        changes: await this.#changes(commit.tree, against),
      }));
      for (let i = 0; i < batch.length; i++) {
        const { body, changes } = read[i] as ReadAhead;
        await this.#addCommit(batch[i] as FreshCommit, body, changes);
        read[i] = EMPTY_READ_AHEAD;
      }
    }
    // Bodies serve as delta bases while entries are made; once they are,
    // the next sync needs only a few of them and reads those again.
    this.#bodies.clear();
  }

  /** What a commit's tree changed, its objects and delta bases read ahead. */
  async #changes(tree: string, against: string | null): Promise<Change[]> {
    const changes: Change[] = [];
    await this.#walkDiff(tree, against, async (oid, kind, base) => {
      changes.push({ oid, kind, base });
      if (kind === "blob" && this.#oids.find(oid) === undefined) {
        await Promise.all([
          this.#read(oid, "blob"),
          base === null ? null : this.#read(base, "blob"),
        ]);
      }
    });
    return changes;
  }

  async #addCommit(commit: FreshCommit, body: Uint8Array, changes: Change[]): Promise<void> {
    const position = this.#commits.length;
    const list = [await this.#ensure(commit.oid, "commit", body, null, position)];
    for (const change of changes) {
      list.push(await this.#ensure(change.oid, change.kind, null, change.base, position));
    }
    for (const entry of list) this.#lists.push(entry);
    this.#listStarts.push(this.#lists.length);
    this.#commits.add(commit.oid);
    this.#commitTrees.add(commit.tree);
    this.#commitTimes.push(commit.time);
  }

  /**
   * Visits `tree` and every object below it that differs from the object at
   * the same path below `against`, parents before children, with that
   * previous object as the natural delta base.
   */
  async #walkDiff(
    tree: string,
    against: string | null,
    visit: (oid: string, kind: "tree" | "blob", base: string | null) => Promise<void> | void,
  ): Promise<void> {
    if (tree === against) return;
    await visit(tree, "tree", against);
    const body = await this.#read(tree, "tree");
    const old = against === null ? new Uint8Array() : await this.#read(against, "tree");
    for (const change of changedEntries(body, old)) {
      if (change.isTree) await this.#walkDiff(change.oid, change.oldTree, visit);
      else await visit(change.oid, "blob", change.oldBlob);
    }
  }

  async #ensure(
    oid: string,
    kind: ObjectKind,
    given: Uint8Array | null,
    baseOid: string | null,
    position: number,
  ): Promise<number> {
    const known = this.#oids.find(oid);
    if (known !== undefined) return known;
    const body = given ?? await this.#read(oid, kind);
    const candidate = baseOid === null ? undefined : this.#oids.find(baseOid);
    const delta = candidate === undefined || this.typeOf(candidate) !== KIND_CODE[kind]
      ? null
      : await this.#deltaFor(candidate, body);
    const entry = this.#oids.add(oid);
    this.#types.push(KIND_CODE[kind]);
    this.#sizes.push(delta === null ? body.length : delta.bytes.length);
    this.#bases.push(delta === null ? -1 : delta.base);
    this.#depths.push(delta === null ? 0 : delta.depth);
    this.#introduced.push(position);
    this.#keep(zlibEntry(delta === null ? body : delta.bytes));
    return entry;
  }

  async #deltaFor(
    candidate: number,
    body: Uint8Array,
  ): Promise<{ base: number; depth: number; bytes: Uint8Array } | null> {
    if (body.length < MIN_DELTA_TARGET) return null;
    const depth = this.#depths.get(candidate);
    let base = candidate;
    if (depth >= this.#maxDepth) {
      while (this.baseOf(base) >= 0) base = this.baseOf(base);
    }
    const bytes = encodeDelta(await this.#bodyOf(base), body);
    if (bytes.length >= body.length / 2) return null;
    return { base, depth: base === candidate ? depth + 1 : 1, bytes };
  }

  #keep(data: Uint8Array): void {
    if (this.#keptBytes + data.length > this.#maxBytes) {
      this.#slabOf.push(-1);
      this.#startOf.push(0);
      this.#lengthOf.push(data.length);
      return;
    }
    if (data.length > SLAB / 4) {
      this.#slabs.push(data);
      this.#slabOf.push(this.#slabs.length - 1);
      this.#startOf.push(0);
    } else {
      if (this.#slabUsed + data.length > SLAB) {
        this.#slabs.push(new Uint8Array(SLAB));
        this.#slabUsed = 0;
        this.#keptBytes += SLAB;
      }
      const slab = this.#slabs.length - 1;
      at(this.#slabs, slab).set(data, this.#slabUsed);
      this.#slabOf.push(slab);
      this.#startOf.push(this.#slabUsed);
      this.#slabUsed += data.length;
    }
    this.#lengthOf.push(data.length);
    if (data.length > SLAB / 4) this.#keptBytes += data.length;
  }

  async #bodyOf(entry: number): Promise<Uint8Array> {
    const kind = this.typeOf(entry) === PACK_TYPE.commit
      ? "commit"
      : this.typeOf(entry) === PACK_TYPE.tree
      ? "tree"
      : "blob";
    return await this.#read(this.oidOf(entry), kind);
  }

  async #read(oid: string, kind: ObjectKind): Promise<Uint8Array> {
    const cached = this.#bodies.get(oid);
    if (cached !== undefined) return cached;
    const { type, body } = await this.#store.readObject(oid);
    if (type !== kind) {
      throw new Error(`Cannot serve object ${oid}: it is a ${type}, not a ${kind}`);
    }
    if (kind !== "commit") this.#bodies.set(oid, body);
    return body;
  }

  #known(oid: string): number {
    const entry = this.#oids.find(oid);
    if (entry === undefined) throw new Error(`Cannot serve object ${oid}: no served commit has it`);
    return entry;
  }
}

/** A growing column of 32-bit integers: four bytes an item instead of a JS array's eight. */
class IntColumn {
  #data: Int32Array;
  #length: number;

  constructor(initial: number[] = []) {
    this.#data = new Int32Array(Math.max(1024, initial.length));
    this.#data.set(initial);
    this.#length = initial.length;
  }

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const grown = new Int32Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.#length++] = value;
  }

  get(index: number): number {
    if (index < 0 || index >= this.#length) {
      throw new Error(`Cannot read item ${index} of ${this.#length}`);
    }
    return this.#data[index] as number;
  }

  /** A view of items `start` to `end` (exclusive); items never change once pushed. */
  range(start: number, end: number): Int32Array {
    return this.#data.subarray(start, end);
  }
}

/**
 * Oids in one byte buffer, 20 bytes each, optionally with an open-addressing
 * hash index: about 30 bytes an oid instead of a string and a Map entry
 * (over 100 bytes).
 */
class OidTable {
  #bytes = new Uint8Array(20 * 1024);
  #length = 0;
  #slots: Int32Array | null;
  #probe = new Uint8Array(20);

  constructor(indexed: boolean) {
    this.#slots = indexed ? new Int32Array(2048) : null;
  }

  get length(): number {
    return this.#length;
  }

  /** Appends an oid (40 hex digits) and returns its number. */
  add(oid: string): number {
    if (!parseOid(oid, this.#probe)) throw new Error(`Cannot index oid "${oid.slice(0, 60)}"`);
    if (this.#length * 20 === this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    const number = this.#length++;
    this.#bytes.set(this.#probe, number * 20);
    if (this.#slots !== null) {
      if (this.#length * 2 > this.#slots.length) this.#rehash();
      this.#place(number);
    }
    return number;
  }

  /** The number of an oid, or undefined when it was never added. */
  find(oid: string): number | undefined {
    const slots = this.#slots;
    if (slots === null) throw new Error("Cannot look up an oid in a table without index");
    if (!parseOid(oid, this.#probe)) return undefined;
    const mask = slots.length - 1;
    for (let slot = hashOid(this.#probe, 0) & mask;; slot = (slot + 1) & mask) {
      const stored = slots[slot] ?? 0;
      if (stored === 0) return undefined;
      if (this.#equals(stored - 1)) return stored - 1;
    }
  }

  /** The oid with number `number` as 40 hex digits. */
  oidAt(number: number): string {
    if (number < 0 || number >= this.#length || !Number.isInteger(number)) {
      throw new Error(`Cannot read item ${number} of ${this.#length}`);
    }
    return hexAt(this.#bytes, number * 20);
  }

  #equals(number: number): boolean {
    const start = number * 20;
    for (let i = 0; i < 20; i++) if (this.#bytes[start + i] !== this.#probe[i]) return false;
    return true;
  }

  #place(number: number): void {
    const slots = this.#slots as Int32Array;
    const mask = slots.length - 1;
    let slot = hashOid(this.#bytes, number * 20) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = number + 1;
  }

  #rehash(): void {
    this.#slots = new Int32Array((this.#slots as Int32Array).length * 2);
    for (let number = 0; number < this.#length; number++) this.#place(number);
  }
}

/** Writes the bytes of a 40-digit lowercase hex oid; false when `hex` is not one. */
function parseOid(hex: string, out: Uint8Array): boolean {
  if (hex.length !== 40) return false;
  for (let i = 0; i < 20; i++) {
    const high = hexValue(hex.charCodeAt(2 * i));
    const low = hexValue(hex.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) return false;
    out[i] = (high << 4) | low;
  }
  return true;
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

/** Object bodies by oid, the least recently used dropped past a byte budget. */
class BodyCache {
  #budget: number;
  #bytes = 0;
  #bodies = new Map<string, Uint8Array>();

  constructor(budget: number) {
    this.#budget = budget;
  }

  get(oid: string): Uint8Array | undefined {
    const body = this.#bodies.get(oid);
    if (body !== undefined) {
      this.#bodies.delete(oid);
      this.#bodies.set(oid, body);
    }
    return body;
  }

  clear(): void {
    this.#bodies.clear();
    this.#bytes = 0;
  }

  set(oid: string, body: Uint8Array): void {
    if (body.length > this.#budget / 8 || this.#bodies.has(oid)) return;
    this.#bodies.set(oid, body);
    this.#bytes += body.length;
    for (const [old, oldBody] of this.#bodies) {
      if (this.#bytes <= this.#budget) break;
      this.#bodies.delete(old);
      this.#bytes -= oldBody.length;
    }
  }
}

/** An entry of a new tree that differs from the entry of the same name in the old tree. */
interface ChangedEntry {
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
function changedEntries(next: Uint8Array, old: Uint8Array): ChangedEntry[] {
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

const HEX_CODES = new TextEncoder().encode("0123456789abcdef");
const HEX_SCRATCH: number[] = new Array(40).fill(0);

/**
 * The 20-byte oid at `start` in hex, as one flat string: joined pieces would
 * cost about 1 KB per oid until V8 flattens them, and the index keeps
 * hundreds of thousands.
 */
function hexAt(body: Uint8Array, start: number): string {
  for (let i = 0; i < 20; i++) {
    const byte = body[start + i] ?? 0;
    HEX_SCRATCH[2 * i] = HEX_CODES[byte >> 4] ?? 0;
    HEX_SCRATCH[2 * i + 1] = HEX_CODES[byte & 15] ?? 0;
  }
  return String.fromCharCode.apply(null, HEX_SCRATCH);
}

/** Runs `work` on every item, at most `limit` at a time; results in item order. */
async function mapLimited<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function identTime(line: string): number {
  const match = / (\d+) [+-]\d{4}$/.exec(line);
  if (match === null) throw new Error(`Cannot read the time of identity "${line.slice(0, 80)}"`);
  return Number(match[1]);
}

function at<T>(items: T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`Cannot read item ${index} of ${items.length}`);
  return item;
}
