/**
 * Pack entries of the history, computed once per commit and kept in a
 * {@link PackLog}, so that a clone streams prepared bytes instead of
 * walking and compressing every object. Derived from the history alone
 * through {@link HistoryStore}; it is never a source of truth. A log that
 * outlives the process is read back on the first sync: its records are
 * checked, a torn or damaged tail is dropped, commits the history no longer
 * has are dropped, and only what is missing is computed again.
 *
 * The history is linear (`main` only moves fast-forward), so commits get
 * positions 0 (root) to n − 1. Each commit lists the objects of its tree
 * that differ from its parent's tree at the same path, recursing only into
 * changed directories, plus the commit itself. Each object becomes one entry
 * the first time it appears: a delta against the previous version of the
 * same path (its chain at most `maxDepth` long; past that, a delta against
 * the chain's whole base, or a whole object), deflated. Memory holds only
 * the index (about 80 bytes an entry); the entry data stays in the log.
 */
import type { HistoryStore } from "./history.ts";
import { parseCommit } from "./git_objects.ts";
import { encodeDelta } from "./delta.ts";
import { PACK_TYPE, zlibEntry } from "./pack_writer.ts";
import { MemoryPackLog, type PackLog } from "./pack_log.ts";
import { NumberColumn, OidTable, parseOid } from "./pack_columns.ts";
import { changedEntries } from "./pack_tree_diff.ts";
import {
  bodyLength,
  encodeRecord,
  isLogHeader,
  LOG_HEADER_LENGTH,
  logHeader,
  type NewEntry,
  type ReadRecord,
  readRecord,
  RECORD_PREFIX,
  RECORD_SUFFIX,
} from "./pack_record.ts";

/** Options of {@link PackCache}. */
export interface PackCacheOptions {
  /** Where entry data and the records to rebuild the index are kept. Default: in memory. */
  log?: PackLog;
  /** Longest delta chain in a served pack. Default 50, as git's `pack.depth`. */
  maxDepth?: number;
  /** Bytes of object bodies kept as delta bases while entries are made. Default 8 MiB. */
  bodyCacheBytes?: number;
}

/** A deflated whole object. */
export interface WholeEntry {
  size: number;
  data: Uint8Array;
}

/** Entry data read for a run of a pack plan: see {@link PackCache.readRun}. */
export interface EntryRun {
  /** How many plan items from `from` on the run covers. */
  count: number;
  /** Log offset of `bytes[0]`. */
  start: number;
  bytes: Uint8Array;
}

type ObjectKind = "blob" | "tree" | "commit";

const BATCH = 64;
const PARALLEL_WALKS = 16;
/** Objects read from the store at once; a walk reads sibling directories side by side. */
const PARALLEL_READS = 32;
/** Objects in one read of a store that reads several at once (Deno KV: 10 keys). */
const READ_BATCH = 10;
/** Such reads at once. */
const PARALLEL_BATCHES = 4;
/** Objects waiting to be read after which the queue drops those sent. */
const QUEUE_COMPACT = 4096;
/** Bodies up to this fraction of the body budget count as small: see {@link BodyCache}. */
const SMALL_BODY_SHARE = 1024;
const MIN_DELTA_TARGET = 32;
const FLUSH_BYTES = 1 << 20;
const LOAD_WINDOW = 1 << 20;
const RUN_GAP = 4096;
const RUN_ITEMS = 4096;
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
  /** The body as read while finding the new commits, or null when it was not kept. */
  body: Uint8Array | null;
}

const EMPTY_TREE = new Uint8Array();

/** Prepared pack entries of a linear history, extended as it grows. */
export class PackCache {
  #store: HistoryStore<unknown>;
  #log: PackLog;
  #maxDepth: number;
  #bodies: BodyCache;
  #reader: ObjectReader;
  #loaded = false;
  #queue: Promise<unknown> = Promise.resolve();
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  #commits = new OidTable(true);
  #commitTrees = new OidTable(false);
  #commitTimes = new NumberColumn(true);
  #listStarts = new NumberColumn();
  #lists = new NumberColumn();
  #recordEnds = new NumberColumn(true);
  #entryEnds = new NumberColumn();

  #oids = new OidTable(true);
  #types = new NumberColumn();
  #sizes = new NumberColumn();
  #bases = new NumberColumn();
  #introduced = new NumberColumn();
  #dataAt = new NumberColumn(true);
  #dataLength = new NumberColumn();

  constructor(store: HistoryStore<unknown>, options: PackCacheOptions = {}) {
    this.#store = store;
    this.#log = options.log ?? new MemoryPackLog();
    this.#maxDepth = options.maxDepth ?? 50;
    this.#bodies = new BodyCache(options.bodyCacheBytes ?? 8 << 20);
    this.#reader = new ObjectReader(store);
  }

  /** Number of commits covered. */
  get commitCount(): number {
    return this.#commits.length;
  }

  /** Number of entries (distinct objects) covered. */
  get entryCount(): number {
    return this.#oids.length;
  }

  /** Bytes in the log: entry data and the records around it. */
  get logBytes(): number {
    return this.#log.size + this.#pendingBytes;
  }

  /**
   * Covers every commit up to `head`, reading the log back on the first
   * call. Calls run one after another. After a failure the next call reads
   * the log back again, so that the index and the log never disagree.
   */
  sync(head: string | null): Promise<void> {
    const run = this.#queue.then(() => this.#syncNow(head));
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
    return this.#commitTimes.get(position);
  }

  /** The entries of the commit at `position`: the commit first, then what its tree changed. */
  entriesOf(position: number): number[] {
    const end = position + 1 < this.#listStarts.length
      ? this.#listStarts.get(position + 1)
      : this.#lists.length;
    const entries: number[] = [];
    for (let i = this.#listStarts.get(position); i < end; i++) entries.push(this.#lists.get(i));
    return entries;
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

  /**
   * The data of `plan[from]` and of the plan items after it that lie close
   * behind it in the log, in one read of at most `scratch.length` bytes
   * (more only for a single larger entry). The bytes may be `scratch`, so
   * use them before the next call with the same scratch.
   */
  async readRun(plan: number[], from: number, scratch: Uint8Array): Promise<EntryRun> {
    const first = at(plan, from);
    const start = this.#dataAt.get(first);
    let end = start + this.#dataLength.get(first);
    let count = 1;
    while (from + count < plan.length && count < RUN_ITEMS) {
      const next = at(plan, from + count);
      const nextStart = this.#dataAt.get(next);
      const nextEnd = nextStart + this.#dataLength.get(next);
      if (nextStart < end || nextStart - end > RUN_GAP || nextEnd - start > scratch.length) break;
      end = nextEnd;
      count++;
    }
    return { count, start, bytes: await this.#log.read(start, end - start, scratch) };
  }

  /** The data of `entry` within a run that covers it. */
  dataIn(run: EntryRun, entry: number): Uint8Array {
    const offset = this.#dataAt.get(entry) - run.start;
    return run.bytes.subarray(offset, offset + this.#dataLength.get(entry));
  }

  /** The object whole and deflated, for a delta whose base the receiver lacks. */
  async whole(entry: number): Promise<WholeEntry> {
    const body = await this.#bodyOf(entry);
    return { size: body.length, data: zlibEntry(body) };
  }

  /**
   * The entries of every object below `tree` (itself included) that is not
   * at the same path below `against` (null: every object).
   */
  async treeEntries(tree: string, against: string | null): Promise<number[]> {
    const changes = await this.#walkDiff(tree, against, false);
    return changes.map((change) => this.#known(change.oid));
  }

  async #syncNow(head: string | null): Promise<void> {
    try {
      if (!this.#loaded) await this.#load(head);
      this.#loaded = true;
      await this.#extend(head);
    } catch (error) {
      this.#loaded = false;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#forget(0);
      throw error;
    } finally {
      this.#bodies.clear();
    }
  }

  /** Rebuilds the index from the log, keeping its longest sound prefix that `head` extends. */
  async #load(head: string | null): Promise<void> {
    this.#forget(0);
    const header = this.#log.size >= LOG_HEADER_LENGTH
      ? await this.#log.read(0, LOG_HEADER_LENGTH)
      : new Uint8Array();
    if (!isLogHeader(header, this.#maxDepth)) {
      await this.#log.truncate(0);
      await this.#log.append(logHeader(this.#maxDepth));
      return;
    }
    const sound = await this.#readRecords();
    if (sound < this.#log.size) await this.#log.truncate(sound);
    const position = head === null ? undefined : this.#commits.find(head);
    if (position !== undefined) await this.#keepCommits(position + 1);
  }

  /** Reads every sound record into the index; resolves where the first unsound one starts. */
  async #readRecords(): Promise<number> {
    const size = this.#log.size;
    let window: Uint8Array = new Uint8Array();
    let windowStart = LOG_HEADER_LENGTH;
    let offset = LOG_HEADER_LENGTH;
    const scratch = new Uint8Array(LOAD_WINDOW);
    for (;;) {
      let length = bodyLength(window, offset - windowStart);
      const total = RECORD_PREFIX + length + RECORD_SUFFIX;
      if (length < 0 || offset + total > windowStart + window.length) {
        if (offset + RECORD_PREFIX > size) return offset;
        const wanted = Math.min(size - offset, Math.max(LOAD_WINDOW, total));
        window = await this.#log.read(
          offset,
          wanted,
          wanted <= scratch.length ? scratch : undefined,
        );
        windowStart = offset;
        length = bodyLength(window, 0);
        if (offset + RECORD_PREFIX + length + RECORD_SUFFIX > size) return offset;
        if (RECORD_PREFIX + length + RECORD_SUFFIX > window.length) continue;
      }
      const bodyStart = offset - windowStart + RECORD_PREFIX;
      const record = readRecord(window, bodyStart, length);
      if (record === null || !this.#addRecord(record, window, offset - windowStart)) return offset;
      offset += RECORD_PREFIX + length + RECORD_SUFFIX;
      this.#recordEnds.push(offset);
    }
  }

  /** Adds a record read back to the index; false (adding nothing) when it is inconsistent. */
  #addRecord(record: ReadRecord, bytes: Uint8Array, recordAt: number): boolean {
    const logAt = this.#recordEnds.length === 0 ? LOG_HEADER_LENGTH : this.#recordEnds.last();
    const position = this.#commits.length;
    const entries = this.#oids.length;
    let fresh = 0;
    for (const item of record.items) {
      if (typeof item === "number") {
        if (item < 0 || item >= entries + fresh) return false;
        continue;
      }
      if (item.base < -1 || item.base >= entries + fresh) return false;
      if (this.#oids.findBytes(bytes, item.oidStart) !== undefined) return false;
      fresh++;
    }
    if (this.#commits.findBytes(bytes, record.commitStart) !== undefined) return false;
    this.#listStarts.push(this.#lists.length);
    for (const item of record.items) {
      if (typeof item === "number") {
        this.#lists.push(item);
        continue;
      }
      const entry = this.#oids.addBytes(bytes, item.oidStart);
      this.#pushEntry(item.type, item.size, item.base, position);
      this.#dataAt.push(logAt + item.dataStart - recordAt);
      this.#dataLength.push(item.dataLength);
      this.#lists.push(entry);
    }
    this.#commits.addBytes(bytes, record.commitStart);
    this.#commitTrees.addBytes(bytes, record.treeStart);
    this.#commitTimes.push(record.time);
    this.#entryEnds.push(this.#oids.length);
    return true;
  }

  /** Keeps the first `count` commits and their entries, in the index and in the log. */
  async #keepCommits(count: number): Promise<void> {
    if (count >= this.#commits.length) return;
    const size = count === 0 ? LOG_HEADER_LENGTH : this.#recordEnds.get(count - 1);
    this.#forget(count);
    await this.#log.truncate(size);
  }

  /** Drops commits from `count` on, and their entries, from the index only. */
  #forget(count: number): void {
    const entries = count === 0 ? 0 : this.#entryEnds.get(count - 1);
    const lists = count < this.#listStarts.length
      ? this.#listStarts.get(count)
      : this.#lists.length;
    for (const column of [this.#commitTimes, this.#listStarts, this.#recordEnds, this.#entryEnds]) {
      column.truncate(count);
    }
    this.#commits.truncate(count);
    this.#commitTrees.truncate(count);
    this.#lists.truncate(lists);
    this.#oids.truncate(entries);
    for (
      const column of [
        this.#types,
        this.#sizes,
        this.#bases,
        this.#introduced,
        this.#dataAt,
        this.#dataLength,
      ]
    ) column.truncate(entries);
  }

  async #extend(head: string | null): Promise<void> {
    if (head === null || this.#commits.find(head) !== undefined) return;
    const fresh: FreshCommit[] = [];
    // Bodies read here are kept for making the entries, up to the body budget.
    let kept = 0;
    let next: string | undefined = head;
    while (next !== undefined && this.#commits.find(next) === undefined) {
      const { type, body } = await this.#store.readObject(next);
      if (type !== "commit") throw new Error(`Cannot serve ${next}: it is a ${type}, not a commit`);
      const commit = parseCommit(body);
      if (commit.parents.length > 1) {
        throw new Error(`Cannot serve commit ${next}: merge commits are not supported`);
      }
      kept += body.length;
      fresh.push({
        oid: next,
        tree: commit.tree,
        time: identTime(commit.committer),
        body: kept <= this.#bodies.budget ? body : null,
      });
      next = commit.parents[0];
    }
    // Commits the history does not reach (a log left from another history)
    // are dropped; the history itself only moves fast-forward.
    await this.#keepCommits(next === undefined ? 0 : (this.#commits.find(next) as number) + 1);
    fresh.reverse();
    const trees = this.#commitTrees.length;
    const covered = trees === 0 ? null : this.#commitTrees.oidAt(trees - 1);
    const readAhead = (start: number) => {
      const batch = fresh.slice(start, start + BATCH);
      const reading = this.#readAhead(batch, start === 0 ? covered : at(fresh, start - 1).tree);
      // Awaited in turn below; until then a failure must not count as unhandled.
      reading.catch(() => undefined);
      return reading;
    };
    // The next batch is read while the entries of this one are made.
    let reading: Promise<ReadAhead[]> | null = fresh.length === 0 ? null : readAhead(0);
    try {
      for (let start = 0; reading !== null; start += BATCH) {
        const read = await reading;
        reading = start + BATCH < fresh.length ? readAhead(start + BATCH) : null;
        await this.#addBatch(fresh.slice(start, start + BATCH), read);
        if (this.#pendingBytes >= FLUSH_BYTES) await this.#flush();
      }
    } finally {
      await reading?.catch(() => undefined);
      await this.#flush();
    }
  }

  /** The bodies and changes of `batch`, whose first commit's parent has tree `previous`. */
  #readAhead(batch: FreshCommit[], previous: string | null): Promise<ReadAhead[]> {
    const pairs = batch.map((commit) => {
      const pair: [FreshCommit, string | null] = [commit, previous];
      previous = commit.tree;
      return pair;
    });
    return mapLimited(pairs, PARALLEL_WALKS, async ([commit, against]) => ({
      body: commit.body ?? await this.#read(commit.oid, "commit"),
      changes: await this.#walkDiff(commit.tree, against, true),
    }));
  }

  async #addBatch(batch: FreshCommit[], read: ReadAhead[]): Promise<void> {
    for (let i = 0; i < batch.length; i++) {
      const { body, changes } = read[i] as ReadAhead;
      const commit = batch[i] as FreshCommit;
      commit.body = null;
      await this.#addCommit(commit, body, changes);
      read[i] = EMPTY_READ_AHEAD;
    }
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (pending.length === 0) return;
    const bytes = new Uint8Array(pending.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of pending) {
      bytes.set(part, offset);
      offset += part.length;
    }
    await this.#log.append(bytes);
  }

  /**
   * Makes the commit's new entries and appends its record. The index grows
   * only once the record is complete, so that it always matches the log.
   */
  async #addCommit(commit: FreshCommit, body: Uint8Array, changes: Change[]): Promise<void> {
    const position = this.#commits.length;
    const known = this.#oids.length;
    const added = new Map<string, number>();
    const items: Array<number | NewEntry> = [];
    const list: number[] = [];
    const newEntries: NewEntry[] = [];
    const add = async (
      oid: string,
      kind: ObjectKind,
      given: Uint8Array | null,
      base: string | null,
    ) => {
      const existing = this.#oids.find(oid) ?? added.get(oid);
      if (existing !== undefined) {
        items.push(existing);
        list.push(existing);
        return;
      }
      const entry = await this.#newEntry(oid, kind, given, base);
      const number = known + newEntries.length;
      added.set(oid, number);
      newEntries.push(entry);
      items.push(entry);
      list.push(number);
    };
    await add(commit.oid, "commit", body, null);
    for (const change of changes) await add(change.oid, change.kind, null, change.base);
    const commitBytes = new Uint8Array(20);
    const treeBytes = new Uint8Array(20);
    parseOid(commit.oid, commitBytes);
    parseOid(commit.tree, treeBytes);
    const record = encodeRecord({ commit: commitBytes, tree: treeBytes, time: commit.time, items });
    const recordAt = this.logBytes;
    this.#pending.push(record.bytes);
    this.#pendingBytes += record.bytes.length;
    this.#listStarts.push(this.#lists.length);
    newEntries.forEach((entry, i) => {
      this.#oids.addBytes(entry.oid, 0);
      this.#pushEntry(entry.type, entry.size, entry.base, position);
      this.#dataAt.push(recordAt + (record.dataAt[i] as number));
      this.#dataLength.push(entry.data.length);
    });
    for (const entry of list) this.#lists.push(entry);
    this.#commits.add(commit.oid);
    this.#commitTrees.add(commit.tree);
    this.#commitTimes.push(commit.time);
    this.#recordEnds.push(recordAt + record.bytes.length);
    this.#entryEnds.push(this.#oids.length);
  }

  #pushEntry(type: number, size: number, base: number, position: number): void {
    this.#types.push(type);
    this.#sizes.push(size);
    this.#bases.push(base);
    this.#introduced.push(position);
  }

  /**
   * `tree` and every object below it that differs from the object at the
   * same path below `against`, parents before children, each with that
   * previous object as the natural delta base. The directories of a tree are
   * walked side by side. With `readBlobs`, the bodies of new blobs and of
   * their bases are read ahead too.
   */
  async #walkDiff(tree: string, against: string | null, readBlobs: boolean): Promise<Change[]> {
    if (tree === against) return [];
    const [body, old] = await Promise.all([
      this.#read(tree, "tree"),
      against === null ? EMPTY_TREE : this.#read(against, "tree"),
    ]);
    const below = await Promise.all(
      changedEntries(body, old).map(async (change) => {
        if (change.isTree) return await this.#walkDiff(change.oid, change.oldTree, readBlobs);
        const blob: Change = { oid: change.oid, kind: "blob", base: change.oldBlob };
        if (readBlobs && this.#oids.find(blob.oid) === undefined) {
          await Promise.all([
            this.#read(blob.oid, "blob"),
            blob.base === null ? null : this.#read(blob.base, "blob"),
          ]);
        }
        return [blob];
      }),
    );
    const changes: Change[] = [{ oid: tree, kind: "tree", base: against }];
    for (const part of below) for (const change of part) changes.push(change);
    return changes;
  }

  async #newEntry(
    oid: string,
    kind: ObjectKind,
    given: Uint8Array | null,
    baseOid: string | null,
  ): Promise<NewEntry> {
    const body = given ?? await this.#read(oid, kind);
    const candidate = baseOid === null ? undefined : this.#oids.find(baseOid);
    const delta = candidate === undefined || this.typeOf(candidate) !== KIND_CODE[kind]
      ? null
      : await this.#deltaFor(candidate, body);
    const oidBytes = new Uint8Array(20);
    parseOid(oid, oidBytes);
    return {
      oid: oidBytes,
      type: KIND_CODE[kind],
      base: delta === null ? -1 : delta.base,
      size: delta === null ? body.length : delta.bytes.length,
      data: zlibEntry(delta === null ? body : delta.bytes),
    };
  }

  async #deltaFor(
    candidate: number,
    body: Uint8Array,
  ): Promise<{ base: number; bytes: Uint8Array } | null> {
    if (body.length < MIN_DELTA_TARGET) return null;
    let base = candidate;
    if (this.#depthOf(candidate) >= this.#maxDepth) {
      while (this.baseOf(base) >= 0) base = this.baseOf(base);
    }
    const bytes = encodeDelta(await this.#bodyOf(base), body);
    if (bytes.length >= body.length / 2) return null;
    return { base, bytes };
  }

  /** How many deltas lead from the entry to a whole object. */
  #depthOf(entry: number): number {
    let depth = 0;
    for (let at = entry; this.baseOf(at) >= 0; at = this.baseOf(at)) depth++;
    return depth;
  }

  async #bodyOf(entry: number): Promise<Uint8Array> {
    const kind = this.typeOf(entry) === PACK_TYPE.commit
      ? "commit"
      : this.typeOf(entry) === PACK_TYPE.tree
      ? "tree"
      : "blob";
    return await this.#read(this.oidOf(entry), kind);
  }

  /** An object's body from the body cache or the store. */
  async #read(oid: string, kind: ObjectKind): Promise<Uint8Array> {
    const cached = this.#bodies.get(oid);
    if (cached !== undefined) return cached;
    const { type, body } = await this.#reader.read(oid);
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

/**
 * Object bodies by oid within a byte budget. Small bodies (files and small
 * directories, read again whenever their path next changes, however much
 * later) and large ones (big directories that every commit rewrites) each
 * get half of it, so that the large ones do not push out the small.
 */
class BodyCache {
  readonly budget: number;
  #small: LruBodies;
  #large: LruBodies;

  constructor(budget: number) {
    this.budget = budget;
    this.#small = new LruBodies(budget / 2);
    this.#large = new LruBodies(budget / 2);
  }

  get(oid: string): Uint8Array | undefined {
    return this.#small.get(oid) ?? this.#large.get(oid);
  }

  clear(): void {
    this.#small.clear();
    this.#large.clear();
  }

  set(oid: string, body: Uint8Array): void {
    if (body.length > this.budget / 8) return;
    (body.length <= this.budget / SMALL_BODY_SHARE ? this.#small : this.#large).set(oid, body);
  }
}

/** Object bodies by oid, the least recently used dropped past a byte budget. */
class LruBodies {
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
    if (this.#bodies.has(oid)) return;
    this.#bodies.set(oid, body);
    this.#bytes += body.length;
    for (const [old, oldBody] of this.#bodies) {
      if (this.#bytes <= this.#budget) break;
      this.#bodies.delete(old);
      this.#bytes -= oldBody.length;
    }
  }
}

/** An object as the store returns it. */
interface StoredObject {
  type: string;
  body: Uint8Array;
}

/**
 * A store that also reads several objects in one go (Deno KV reads up to 10
 * entries at once), resolving them in the order asked; it rejects when one
 * is missing.
 */
interface BatchReadingStore {
  readObjects(oids: string[]): Promise<StoredObject[]>;
}

/**
 * Reads objects from the store, each at most once at a time, with a bounded
 * number of reads under way. Objects asked for meanwhile wait in turn; a
 * store that reads several at once gets them in batches.
 */
class ObjectReader {
  #store: HistoryStore<unknown>;
  #batchReader: BatchReadingStore | null;
  #batch: number;
  #parallel: number;
  #pending = new Map<string, PromiseWithResolvers<StoredObject>>();
  #queue: string[] = [];
  #queued = 0;
  #underWay = 0;
  #scheduled = false;

  constructor(store: HistoryStore<unknown>) {
    this.#store = store;
    this.#batchReader = store.readObjects === undefined ? null : store as BatchReadingStore;
    this.#batch = this.#batchReader === null ? 1 : READ_BATCH;
    this.#parallel = this.#batchReader === null ? PARALLEL_READS : PARALLEL_BATCHES;
  }

  read(oid: string): Promise<StoredObject> {
    const pending = this.#pending.get(oid);
    if (pending !== undefined) return pending.promise;
    const read = Promise.withResolvers<StoredObject>();
    this.#pending.set(oid, read);
    this.#queue.push(oid);
    if (!this.#scheduled) {
      // Reads asked for in the same turn go out together.
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
    return read.promise;
  }

  #pump(): void {
    while (this.#underWay < this.#parallel && this.#queued < this.#queue.length) {
      const oids = this.#queue.slice(this.#queued, this.#queued + this.#batch);
      this.#queued += oids.length;
      if (this.#queued === this.#queue.length || this.#queued >= QUEUE_COMPACT) {
        this.#queue = this.#queue.slice(this.#queued);
        this.#queued = 0;
      }
      this.#underWay++;
      void this.#readNow(oids).finally(() => {
        this.#underWay--;
        this.#pump();
      });
    }
  }

  async #readNow(oids: string[]): Promise<void> {
    if (this.#batchReader === null) {
      await Promise.all(oids.map(async (oid) => {
        try {
          this.#settle(oid, await this.#store.readObject(oid), null);
        } catch (error) {
          this.#settle(oid, null, error);
        }
      }));
      return;
    }
    try {
      const objects = await this.#batchReader.readObjects(oids);
      oids.forEach((oid, i) => {
        const object = objects[i];
        if (object === undefined) this.#settle(oid, null, new Error(`Cannot read object ${oid}`));
        else this.#settle(oid, object, null);
      });
    } catch (error) {
      for (const oid of oids) this.#settle(oid, null, error);
    }
  }

  #settle(oid: string, object: StoredObject | null, error: unknown): void {
    const pending = this.#pending.get(oid);
    if (pending === undefined) return;
    this.#pending.delete(oid);
    if (object === null) pending.reject(error);
    else pending.resolve(object);
  }
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
