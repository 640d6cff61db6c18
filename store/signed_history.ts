/**
 * The history store over any backend that can keep Git objects and move
 * `refs/heads/main` by compare-and-swap: the head tree and projection in
 * memory, appends queued and signed, and every read. The disk store and the
 * Deno KV store differ only in their {@link HistoryBackend}.
 *
 * Group commit: transact() calls that queue up while an append is under way
 * are decided one after another, each against the state its predecessors
 * leave, and their commits (a chain, each the parent of the next) are made
 * durable by one append that moves the ref once. Each call is settled only
 * once every commit up to its own is durable; a decision that throws rejects
 * only its own call.
 */
import type {
  CommitInfo,
  Decision,
  HistoryStore,
  Identity,
  Projection,
  TreeFile,
} from "./history.ts";
import {
  type EncodedObject,
  parseCommit,
  parseTree,
  TREE_MODE,
  type TreeEntry,
} from "./git_objects.ts";
import { parseMessage } from "./commit_message.ts";
import { parseIdentLine } from "./identity.ts";
import { allowedSignersLine, type SigningKey } from "./sshsig.ts";
import { forEachLimited, HeadTree, joinPath } from "./head_tree.ts";
import {
  ALLOWED_SIGNERS_PATH,
  prepareCommit,
  type PreparedCommit,
  withSignerLine,
} from "./commit_builder.ts";

/** Where a history keeps its objects and its one ref. */
export interface HistoryBackend {
  /** Names the history in error messages, e.g. the repository path. */
  readonly label: string;
  /** The oid `refs/heads/main` points at, or null while the history is empty. */
  readHead(): Promise<string | null>;
  /** One object, checked against its oid; rejects when it is missing. */
  readObject(oid: string): Promise<EncodedObject>;
  /** Several objects in the order asked, where the backend reads them together. */
  readObjects?(oids: string[]): Promise<EncodedObject[]>;
  /**
   * Makes `objects` durable and moves `refs/heads/main` from `expected` to
   * `next`. Resolves false, leaving the ref alone, when the ref no longer
   * points at `expected`. Objects may become durable before the ref moves,
   * as git writes objects before it updates a ref; the ref moves only once
   * all of them are.
   */
  append(objects: EncodedObject[], expected: string | null, next: string): Promise<boolean>;
  /** Releases what the backend holds; called once, after the last append. */
  close(): Promise<void>;
}

/** Options of {@link openSignedHistory}. */
export interface SignedHistoryOptions<S> {
  backend: HistoryBackend;
  projection: Projection<S>;
  /** The service identity recorded as committer of every commit. */
  committer: Identity;
  key: SigningKey;
}

const MAX_ATTEMPTS = 20;
/** Most commits one append stream decides before it starts afresh from head. */
const STREAM_COMMITS = 1024;
const TREE_CACHE_SIZE = 4096;
const PROJECTION_BATCH = 64;
/**
 * Bytes of projected files' contents kept by oid: a group reads what head
 * holds at each path its commits change, mostly files written or loaded
 * shortly before.
 */
const PROJECTED_CACHE_BYTES = 16 << 20;
const decoder = new TextDecoder();

/** Opens a history on `backend`, building the projection from the head tree. */
export async function openSignedHistory<S>(
  options: SignedHistoryOptions<S>,
): Promise<SignedHistory<S>> {
  const history = new SignedHistory(options);
  await history.reload();
  return history;
}

/** A {@link HistoryStore} whose commits are signed and written through a backend. */
export class SignedHistory<S> implements HistoryStore<S> {
  #backend: HistoryBackend;
  #projection: Projection<S>;
  #committer: Identity;
  #key: SigningKey;
  #signerLine: string;
  #state: S;
  #head: string | null = null;
  #tree = new HeadTree();
  #signers: string | null = null;
  #listeners: Array<(oid: string) => void> = [];
  #waiting: Array<Waiter<S>> = [];
  #draining: Promise<void> | null = null;
  /** Wakes an append stream waiting for the next call. */
  #arrived: (() => void) | null = null;
  #closed = false;
  #trees = new Map<string, TreeEntry[]>();
  #projected = new ByteCache(PROJECTED_CACHE_BYTES);

  constructor(options: SignedHistoryOptions<S>) {
    this.#backend = options.backend;
    this.#projection = options.projection;
    this.#committer = options.committer;
    this.#key = options.key;
    this.#signerLine = allowedSignersLine(options.key.publicKey);
    this.#state = options.projection.empty();
  }

  get state(): S {
    return this.#state;
  }

  /** The key that signs the next commit. */
  get key(): SigningKey {
    return this.#key;
  }

  /** keys/allowed_signers as the head tree holds it, or null when it holds none. */
  get signersAtHead(): string | null {
    return this.#signers;
  }

  head(): string | null {
    return this.#head;
  }

  /** Signs the following commits with `key`. */
  useKey(key: SigningKey): void {
    this.#key = key;
    this.#signerLine = allowedSignersLine(key.publicKey);
  }

  transact<T>(decide: (state: S) => Decision<T>): Promise<{ oid: string | null; result: T }> {
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot append to "${this.#backend.label}": the store is closed`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({
        decide,
        resolve: resolve as Waiter<S>["resolve"],
        reject,
      });
      this.#arrived?.();
      this.#arrived = null;
      this.#draining ??= this.#drain();
    });
  }

  async readObject(
    oid: string,
  ): Promise<{ type: "blob" | "tree" | "commit" | "tag"; body: Uint8Array }> {
    const { type, body } = await this.#backend.readObject(oid);
    return { type, body };
  }

  async readObjects(
    oids: string[],
  ): Promise<Array<{ type: "blob" | "tree" | "commit" | "tag"; body: Uint8Array }>> {
    const objects = this.#backend.readObjects
      ? await this.#backend.readObjects(oids)
      : await Promise.all(oids.map((oid) => this.#backend.readObject(oid)));
    return objects.map(({ type, body }) => ({ type, body }));
  }

  async readFile(commit: string, path: string): Promise<Uint8Array | null> {
    const { tree } = parseCommit(await this.#readTyped(commit, "commit"));
    const entry = await this.#entryAt(tree, path);
    if (entry === null || entry.mode === TREE_MODE) return null;
    return await this.#readTyped(entry.oid, "blob");
  }

  async readTreeFiles(tree: string): Promise<TreeFile[]> {
    const files: TreeFile[] = [];
    const walk = async (oid: string, prefix: string): Promise<void> => {
      for (const entry of await this.#readTree(oid)) {
        const path = joinPath(prefix, entry.name);
        if (entry.mode === TREE_MODE) await walk(entry.oid, path);
        else files.push({ path, oid: entry.oid, content: new Uint8Array() });
      }
    };
    await walk(tree, "");
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await forEachLimited(files, async (file) => {
      file.content = await this.#readTyped(file.oid, "blob");
    });
    return files;
  }

  async log(options: { from?: string; path?: string; limit?: number } = {}): Promise<CommitInfo[]> {
    const commits: CommitInfo[] = [];
    let oid = options.from ?? this.#head;
    while (oid !== null && (options.limit === undefined || commits.length < options.limit)) {
      const commit = parseCommit(await this.#readTyped(oid, "commit"));
      if (options.path === undefined || (await this.#touches(commit, options.path))) {
        commits.push(toCommitInfo(oid, commit));
      }
      oid = commit.parents[0] ?? null;
    }
    return commits;
  }

  allowedSigners(): string {
    return withSignerLine(this.#signers, this.#signerLine);
  }

  onAppend(listener: (oid: string) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#draining !== null) await this.#draining;
    await this.#backend.close();
  }

  /** Rebuilds head, head tree, allowed_signers and state from `refs/heads/main`. */
  async reload(): Promise<void> {
    const head = await this.#backend.readHead();
    const root = head === null ? null : parseCommit(await this.#readTyped(head, "commit")).tree;
    const tree = await HeadTree.load(root, (oid) => this.#readTree(oid));
    const state = this.#projection.empty();
    await this.#applyFiles(state, tree.files());
    const signersOid = tree.fileOid(ALLOWED_SIGNERS_PATH);
    this.#signers = signersOid === null
      ? null
      : decoder.decode(await this.#readTyped(signersOid, "blob"));
    if (head !== null) this.#projection.setHead(state, head);
    this.#head = head;
    this.#tree = tree;
    this.#state = state;
  }

  /**
   * Appends the waiting calls until none waits, deciding again after a lost
   * race. A call already settled ignores being rejected, as a promise
   * settles once.
   */
  async #drain(): Promise<void> {
    // Calls made in the same turn of the event loop are decided together.
    await Promise.resolve();
    try {
      let races = 0;
      while (this.#waiting.length > 0) {
        let outcome: StreamOutcome<S>;
        try {
          // The first commit of a history is decided alone.
          outcome = await this.#appendStream(
            this.#head === null ? this.#waiting.splice(0, 1) : undefined,
          );
        } catch (error) {
          for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
          continue;
        }
        this.#waiting.unshift(...outcome.rest);
        // Races in a row: an append that landed since the last one restarts the count.
        if (outcome.appended || !outcome.raced) races = 0;
        if (!outcome.raced) continue;
        races++;
        try {
          if (races === MAX_ATTEMPTS) {
            throw new Error(
              `Cannot append to "${this.#backend.label}": refs/heads/main moved ${races} times`,
            );
          }
          await this.reload();
        } catch (error) {
          races = 0;
          for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
        }
      }
    } finally {
      this.#draining = null;
    }
  }

  /**
   * Decides the waiting calls one after another, each against the state the
   * ones before it leave, and prepares each commit on top of theirs, while
   * appending: whenever no append is under way, the commits decided so far
   * go into the next one, so the slower the appends, the more commits each
   * carries. Calls that arrive meanwhile join the stream; it ends when none
   * waits and every append is done, or after {@link STREAM_COMMITS} commits.
   * Each call is settled once its commit is durable. After a lost race or a
   * failed append, returns the calls to decide again: those whose decision
   * rested on a commit that was not written. `only`: decide just these calls.
   */
  async #appendStream(only?: Array<Waiter<S>>): Promise<StreamOutcome<S>> {
    const source = only ?? this.#waiting;
    const tree = this.#tree.layer();
    let head = this.#head;
    let signers = this.#signers;
    const changes: StateChanges = { after: new Map(), before: new Map(), owners: new Map() };
    /** Decided calls not yet in an append. */
    let queued: Array<Member<S>> = [];
    let writing: Promise<void> | null = null;
    let failure: { members: Array<Member<S>>; raced: boolean; error?: unknown } | null = null;
    let commits = 0;
    let appended = false;
    let broken = false;
    // Whether the state holds the decided commits not yet durable. It does
    // only while the stream runs without yielding: it is put back before
    // every await, so readers never see a commit that is not durable.
    let advanced = false;
    const advance = () => {
      if (advanced || head === this.#head || head === null || this.#head === null) return;
      for (const [path, content] of changes.after) {
        this.#projection.apply(this.#state, path, content);
      }
      this.#projection.setHead(this.#state, head);
      advanced = true;
    };
    const restore = () => {
      if (!advanced) return;
      for (const [path, content] of changes.before) {
        this.#projection.apply(this.#state, path, content);
      }
      // Never null here: a state is advanced only on top of a durable head.
      if (this.#head !== null) this.#projection.setHead(this.#state, this.#head);
      advanced = false;
    };
    const startWrite = () => {
      const members = queued;
      queued = [];
      writing = this.#appendMembers(members, changes).then(
        (landed) => {
          if (landed) appended = true;
          else failure = { members, raced: true };
        },
        (error) => {
          failure = { members, raced: false, error };
        },
      ).finally(() => {
        writing = null;
        if (failure === null && queued.some(isCommit)) startWrite();
      });
    };
    const stopped = (undecided: Array<Waiter<S>>) => {
      const { members, raced, error } = failure!;
      for (const member of raced ? [] : members.filter(isCommit)) member.waiter.reject(error);
      const redo = raced ? members : members.filter((member) => !isCommit(member));
      return { rest: [...[...redo, ...queued].map(waiterOf), ...undecided], raced, appended };
    };
    while (!broken && commits < STREAM_COMMITS) {
      if (failure !== null) {
        restore();
        return stopped([]);
      }
      const waiter = source.shift();
      if (waiter === undefined) {
        restore();
        if (writing === null) break;
        if (only !== undefined) await writing;
        else {
          const arrived = new Promise<void>((resolve) => this.#arrived = resolve);
          await Promise.race([writing, arrived]);
        }
        continue;
      }
      let outcome: Outcome;
      try {
        advance();
        const decision = waiter.decide(this.#state);
        if (decision.commit === null) {
          outcome = { kind: "none", result: decision.result };
        } else {
          const base = { tree, head, signers, key: this.#key, committer: this.#committer };
          const prepared = prepareCommit(base, decision.commit);
          // What head holds at the paths a later decision will see changed.
          const reading = this.#readBefore(decision.commit.files.keys(), changes);
          if (reading !== null) {
            restore();
            await reading;
          }
          outcome = { kind: "commit", prepared, result: decision.result };
        }
      } catch (error) {
        outcome = { kind: "error", error };
      }
      if (failure !== null) {
        restore();
        return stopped([waiter]);
      }
      const member = { waiter, outcome };
      if (outcome.kind !== "commit") {
        // A decision that commits nothing rests on the commits decided before it.
        if (head === this.#head && writing === null && queued.length === 0) this.#settle(member);
        else queued.push(member);
        continue;
      }
      const { prepared } = outcome;
      tree.apply(prepared.staged);
      head = prepared.oid;
      signers = prepared.signers;
      queued.push(member);
      commits++;
      try {
        const recording = this.#recordChanges(prepared, changes);
        if (recording !== null) {
          restore();
          await recording;
        } else if (advanced) {
          // The state follows the new commit: only its own files change.
          for (const [path] of prepared.staged.changed) {
            if (changes.owners.get(path) === prepared.oid) {
              this.#projection.apply(this.#state, path, changes.after.get(path) ?? null);
            }
          }
          this.#projection.setHead(this.#state, prepared.oid);
        }
      } catch (error) {
        restore();
        // Later decisions cannot be taken on top: the stream ends once the
        // commits decided so far are appended.
        reportError(error);
        broken = true;
      }
      if (writing === null && failure === null) startWrite();
    }
    restore();
    while (writing !== null) await writing;
    if (failure !== null) return stopped([]);
    for (const member of queued) this.#settle(member);
    return { rest: [], raced: false, appended };
  }

  /**
   * Adds the projected files of `prepared` to `changes`: at once when what
   * head holds at their paths is known or cached (null returned), else once
   * it is read.
   */
  #recordChanges(prepared: PreparedCommit, changes: StateChanges): Promise<void> | null {
    const paths = prepared.staged.changed.map(([path]) => path);
    const record = () => {
      for (const path of paths) {
        if (this.#projection.wants(path)) {
          changes.after.set(path, prepared.contents.get(path) ?? null);
          changes.owners.set(path, prepared.oid);
        }
      }
    };
    const reading = this.#readBefore(paths, changes);
    if (reading === null) {
      record();
      return null;
    }
    return reading.then(record);
  }

  /**
   * Notes what head holds at each projected path that `changes` does not know
   * yet: at once when it is cached (null returned), else once it is read.
   */
  #readBefore(paths: Iterable<string>, changes: StateChanges): Promise<void> | null {
    const missing: Array<[string, string]> = [];
    for (const path of paths) {
      if (!this.#projection.wants(path) || changes.before.has(path)) continue;
      const oid = this.#tree.fileOid(path);
      const cached = oid === null ? null : this.#projected.get(oid);
      if (cached !== undefined) changes.before.set(path, cached);
      else if (oid !== null) missing.push([path, oid]);
    }
    if (missing.length === 0) return null;
    return Promise.all(missing.map(([, oid]) => this.#readTyped(oid, "blob"))).then((contents) => {
      missing.forEach(([path], i) => {
        if (!changes.before.has(path)) changes.before.set(path, contents[i] ?? null);
      });
    });
  }

  /**
   * Appends the commits of `members` (at least one) on the current head in
   * one append. Once durable, makes them the head and settles every member;
   * `changes` then records what they wrote as the state's content at head.
   * Resolves false, settling nothing, when the ref moved meanwhile.
   */
  async #appendMembers(members: Array<Member<S>>, changes: StateChanges): Promise<boolean> {
    const commits = members.flatMap(({ outcome }) =>
      outcome.kind === "commit" ? [outcome.prepared] : []
    );
    const last = commits.at(-1)?.oid ?? "";
    const objects = commits.flatMap((commit) => commit.objects);
    if (!(await this.#backend.append(objects, this.#head, last))) return false;
    for (const member of members) {
      if (member.outcome.kind === "commit") {
        const { prepared } = member.outcome;
        this.#advance(prepared);
        for (const [path] of prepared.staged.changed) {
          if (changes.owners.get(path) === prepared.oid) {
            // No commit still to append changes it: head holds its content now.
            changes.after.delete(path);
            changes.before.delete(path);
            changes.owners.delete(path);
          } else if (changes.before.has(path)) {
            changes.before.set(path, prepared.contents.get(path) ?? null);
          }
        }
      }
      this.#settle(member);
    }
    return true;
  }

  #settle({ waiter, outcome }: Member<S>): void {
    if (outcome.kind === "error") waiter.reject(outcome.error);
    else {
      const oid = outcome.kind === "commit" ? outcome.prepared.oid : null;
      waiter.resolve({ oid, result: outcome.result });
    }
  }

  #advance(prepared: PreparedCommit): void {
    this.#tree.apply(prepared.staged);
    this.#head = prepared.oid;
    this.#signers = prepared.signers;
    for (const [path, oid] of prepared.staged.changed) {
      if (this.#projection.wants(path)) {
        const content = prepared.contents.get(path) ?? null;
        this.#projection.apply(this.#state, path, content);
        if (oid !== null && content !== null) this.#projected.set(oid, content);
      }
    }
    this.#projection.setHead(this.#state, prepared.oid);
    for (const listener of this.#listeners) {
      try {
        listener(prepared.oid);
      } catch (error) {
        reportError(error);
      }
    }
  }

  async #applyFiles(state: S, files: Array<[string, string]>): Promise<void> {
    const wanted = files.filter(([path]) => this.#projection.wants(path));
    for (let start = 0; start < wanted.length; start += PROJECTION_BATCH) {
      const slice = wanted.slice(start, start + PROJECTION_BATCH);
      const contents = await Promise.all(slice.map(([, oid]) => this.#readTyped(oid, "blob")));
      slice.forEach(([path, oid], i) => {
        const content = contents[i] ?? null;
        this.#projection.apply(state, path, content);
        if (content !== null) this.#projected.set(oid, content);
      });
    }
  }

  async #touches(commit: { tree: string; parents: string[] }, path: string): Promise<boolean> {
    const mine = await this.#entryAt(commit.tree, path);
    const parent = commit.parents[0];
    if (parent === undefined) return mine !== null;
    const parentTree = parseCommit(await this.#readTyped(parent, "commit")).tree;
    const theirs = await this.#entryAt(parentTree, path);
    return mine?.oid !== theirs?.oid;
  }

  async #entryAt(tree: string, path: string): Promise<TreeEntry | null> {
    let entry: TreeEntry = { mode: TREE_MODE, name: "", oid: tree };
    for (const segment of path.split("/").filter((part) => part !== "")) {
      if (entry.mode !== TREE_MODE) return null;
      const found = (await this.#readTree(entry.oid)).find((child) => child.name === segment);
      if (found === undefined) return null;
      entry = found;
    }
    return entry;
  }

  async #readTree(oid: string): Promise<TreeEntry[]> {
    const cached = this.#trees.get(oid);
    if (cached !== undefined) return cached;
    const entries = parseTree(await this.#readTyped(oid, "tree"));
    if (this.#trees.size >= TREE_CACHE_SIZE) this.#trees.clear();
    this.#trees.set(oid, entries);
    return entries;
  }

  async #readTyped(oid: string, type: "blob" | "tree" | "commit"): Promise<Uint8Array> {
    const object = await this.#backend.readObject(oid);
    if (object.type !== type) throw new Error(`Cannot read ${type} ${oid}: it is a ${object.type}`);
    return object.body;
  }
}

/** A transact() call waiting for its commit. */
interface Waiter<S> {
  decide: (state: S) => Decision<unknown>;
  resolve: (value: { oid: string | null; result: unknown }) => void;
  reject: (error: unknown) => void;
}

/**
 * How an append stream ended: the calls to decide again, whether because the
 * ref moved, and whether any of its appends landed.
 */
interface StreamOutcome<S> {
  rest: Array<Waiter<S>>;
  raced: boolean;
  appended: boolean;
}

/** What deciding a call gave: a prepared commit, nothing to commit, or an error. */
type Outcome =
  | { kind: "commit"; prepared: PreparedCommit; result: unknown }
  | { kind: "none"; result: unknown }
  | { kind: "error"; error: unknown };

interface Member<S> {
  waiter: Waiter<S>;
  outcome: Outcome;
}

/**
 * Projected files that decided commits not yet durable change: their content
 * after the last of them, at head, and that last commit.
 */
interface StateChanges {
  after: Map<string, Uint8Array | null>;
  before: Map<string, Uint8Array | null>;
  owners: Map<string, string>;
}

function waiterOf<S>(member: Member<S>): Waiter<S> {
  return member.waiter;
}

function isCommit<S>(member: Member<S>): boolean {
  return member.outcome.kind === "commit";
}

function toCommitInfo(oid: string, commit: ReturnType<typeof parseCommit>): CommitInfo {
  const { subject, trailers } = parseMessage(commit.message);
  return {
    oid,
    parents: commit.parents,
    tree: commit.tree,
    author: parseIdentLine(commit.author),
    subject,
    trailers,
    message: commit.message,
  };
}

/** Bytes by oid up to a total size; the least recently used go first. */
class ByteCache {
  #limit: number;
  #bytes = 0;
  #entries = new Map<string, Uint8Array>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(oid: string): Uint8Array | undefined {
    const bytes = this.#entries.get(oid);
    if (bytes !== undefined) {
      this.#entries.delete(oid);
      this.#entries.set(oid, bytes);
    }
    return bytes;
  }

  set(oid: string, bytes: Uint8Array): void {
    if (bytes.length > this.#limit / 64 || this.#entries.has(oid)) return;
    this.#entries.set(oid, bytes);
    this.#bytes += bytes.length;
    for (const [old, kept] of this.#entries) {
      if (this.#bytes <= this.#limit) break;
      this.#entries.delete(old);
      this.#bytes -= kept.length;
    }
  }
}
