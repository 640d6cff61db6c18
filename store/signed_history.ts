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
/** Most transact() calls decided and appended together. */
export const MAX_GROUP = 64;
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
      this.#draining ??= this.#drain();
    });
  }

  async readObject(
    oid: string,
  ): Promise<{ type: "blob" | "tree" | "commit" | "tag"; body: Uint8Array }> {
    const { type, body } = await this.#backend.readObject(oid);
    return { type, body };
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

  /** Appends the waiting calls, a group at a time, until none waits. */
  async #drain(): Promise<void> {
    // Calls made in the same turn of the event loop join the first group.
    await Promise.resolve();
    try {
      while (this.#waiting.length > 0) {
        const size = this.#head === null ? 1 : MAX_GROUP;
        const group = this.#waiting.splice(0, size);
        try {
          await this.#appendGroup(group);
        } catch (error) {
          for (const waiter of group) waiter.reject(error);
        }
      }
    } finally {
      this.#draining = null;
    }
  }

  /**
   * Decides and appends `group`, deciding again after a lost race. Settles
   * every call; a call already settled ignores being rejected by the caller's
   * catch, as a promise settles once.
   */
  async #appendGroup(group: Array<Waiter<S>>): Promise<void> {
    let pending = group;
    for (let races = 0; pending.length > 0;) {
      const members = await this.#decideAll(pending);
      const { rest, raced } = await this.#write(members);
      pending = rest;
      if (!raced) continue;
      races++;
      if (races === MAX_ATTEMPTS) {
        throw new Error(
          `Cannot append to "${this.#backend.label}": refs/heads/main moved ${races} times`,
        );
      }
      await this.reload();
    }
  }

  /**
   * Runs each call's decision against the state the calls before it leave
   * and prepares its commit on top of theirs.
   */
  async #decideAll(waiters: Array<Waiter<S>>): Promise<Array<Member<S>>> {
    const tree = this.#tree.layer();
    let head = this.#head;
    let signers = this.#signers;
    const changes: StateChanges = { after: new Map(), before: new Map() };
    const members: Array<Member<S>> = [];
    for (const [index, waiter] of waiters.entries()) {
      let outcome: Outcome;
      try {
        const decision = this.#decide(waiter.decide, changes, head);
        if (decision.commit === null) {
          outcome = { kind: "none", result: decision.result };
        } else {
          const base = { tree, head, signers, key: this.#key, committer: this.#committer };
          const prepared = prepareCommit(base, decision.commit);
          // What head holds at the paths a later decision will see changed.
          if (index < waiters.length - 1) {
            await this.#readBefore(decision.commit.files.keys(), changes);
          }
          outcome = { kind: "commit", prepared, result: decision.result };
        }
      } catch (error) {
        outcome = { kind: "error", error };
      }
      members.push({ waiter, outcome });
      if (outcome.kind !== "commit") continue;
      const { prepared } = outcome;
      tree.apply(prepared.staged);
      head = prepared.oid;
      signers = prepared.signers;
      if (index < waiters.length - 1) await this.#recordChanges(prepared, changes);
    }
    return members;
  }

  /**
   * Runs `decide` against the state with `changes` applied, taking them out
   * again before returning: nothing else runs in between, so readers of
   * {@link state} never see a commit that is not durable.
   */
  #decide<T>(decide: (state: S) => Decision<T>, changes: StateChanges, head: string | null) {
    if (head === this.#head || head === null || this.#head === null) return decide(this.#state);
    try {
      for (const [path, content] of changes.after) {
        this.#projection.apply(this.#state, path, content);
      }
      this.#projection.setHead(this.#state, head);
      return decide(this.#state);
    } finally {
      for (const [path, content] of changes.before) {
        this.#projection.apply(this.#state, path, content);
      }
      this.#projection.setHead(this.#state, this.#head);
    }
  }

  /** Adds the projected files of `prepared` to `changes`. */
  async #recordChanges(prepared: PreparedCommit, changes: StateChanges): Promise<void> {
    const paths = prepared.staged.changed.map(([path]) => path);
    await this.#readBefore(paths, changes);
    for (const path of paths) {
      if (this.#projection.wants(path)) {
        changes.after.set(path, prepared.contents.get(path) ?? null);
      }
    }
  }

  /** Reads what head holds at each projected path that `changes` does not know yet. */
  async #readBefore(paths: Iterable<string>, changes: StateChanges): Promise<void> {
    const unknown = [...paths].filter((path) =>
      this.#projection.wants(path) && !changes.before.has(path)
    );
    const contents = await Promise.all(unknown.map((path) => {
      const oid = this.#tree.fileOid(path);
      return oid === null ? null : this.#projected.get(oid) ?? this.#readTyped(oid, "blob");
    }));
    unknown.forEach((path, i) => changes.before.set(path, contents[i] ?? null));
  }

  /**
   * Appends the commits of `members` in one append and settles each call
   * once it is durable; calls decided before the first commit settle at
   * once. After a lost race or a failed append, returns the calls to decide
   * again: those whose decision rested on a commit that was not written.
   */
  async #write(members: Array<Member<S>>): Promise<{ rest: Array<Waiter<S>>; raced: boolean }> {
    let start = 0;
    while (start < members.length && members[start]?.outcome.kind !== "commit") {
      this.#settle(members[start++] as Member<S>);
    }
    const resting = members.slice(start);
    const commits = resting.flatMap(({ outcome }) =>
      outcome.kind === "commit" ? [outcome.prepared] : []
    );
    const last = commits.at(-1);
    if (last === undefined) return { rest: [], raced: false };
    let appended: boolean;
    try {
      appended = await this.#backend.append(
        commits.flatMap((commit) => commit.objects),
        this.#head,
        last.oid,
      );
    } catch (error) {
      for (const member of resting) {
        if (member.outcome.kind === "commit") member.waiter.reject(error);
      }
      const undecided = resting.filter((member) => member.outcome.kind !== "commit");
      return { rest: undecided.map(waiterOf), raced: false };
    }
    if (!appended) return { rest: resting.map(waiterOf), raced: true };
    for (const member of resting) {
      if (member.outcome.kind === "commit") this.#advance(member.outcome.prepared);
      this.#settle(member);
    }
    return { rest: [], raced: false };
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

/** What deciding a call gave: a prepared commit, nothing to commit, or an error. */
type Outcome =
  | { kind: "commit"; prepared: PreparedCommit; result: unknown }
  | { kind: "none"; result: unknown }
  | { kind: "error"; error: unknown };

interface Member<S> {
  waiter: Waiter<S>;
  outcome: Outcome;
}

/** Projected files a group's earlier commits change: their content after, and at head. */
interface StateChanges {
  after: Map<string, Uint8Array | null>;
  before: Map<string, Uint8Array | null>;
}

function waiterOf<S>(member: Member<S>): Waiter<S> {
  return member.waiter;
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
