/**
 * The history store over any backend that can keep Git objects and move
 * `refs/heads/main` by compare-and-swap: the head tree and projection in
 * memory, appends queued and signed, and every read. The disk store and the
 * Deno KV store differ only in their {@link HistoryBackend}.
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
   * points at `expected`.
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
const TREE_CACHE_SIZE = 4096;
const PROJECTION_BATCH = 64;
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
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #trees = new Map<string, TreeEntry[]>();

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
    const run = this.#queue.then(() => this.#transactNow(decide));
    this.#queue = run.catch(() => undefined);
    return run;
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
    await this.#queue;
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

  async #transactNow<T>(decide: (state: S) => Decision<T>) {
    for (let attempt = 1;; attempt++) {
      const decision = decide(this.#state);
      if (decision.commit === null) return { oid: null, result: decision.result };
      const prepared = await prepareCommit({
        tree: this.#tree,
        head: this.#head,
        signers: this.#signers,
        key: this.#key,
        committer: this.#committer,
      }, decision.commit);
      if (await this.#backend.append(prepared.objects, this.#head, prepared.oid)) {
        this.#advance(prepared);
        return { oid: prepared.oid, result: decision.result };
      }
      if (attempt === MAX_ATTEMPTS) {
        throw new Error(
          `Cannot append to "${this.#backend.label}": refs/heads/main moved ${attempt} times`,
        );
      }
      await this.reload();
    }
  }

  #advance(prepared: PreparedCommit): void {
    this.#tree.apply(prepared.staged);
    this.#head = prepared.oid;
    this.#signers = prepared.signers;
    for (const [path] of prepared.staged.changed) {
      if (this.#projection.wants(path)) {
        this.#projection.apply(this.#state, path, prepared.contents.get(path) ?? null);
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
      slice.forEach(([path], i) => this.#projection.apply(state, path, contents[i] ?? null));
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
