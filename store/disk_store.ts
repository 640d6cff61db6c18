/**
 * The history store on local disk: a bare repository at
 * `<dir>/history.git`, the signing key at `<dir>/signing_key` and the
 * data-directory lock at `<dir>/lock`.
 */
import type {
  CommitInfo,
  CommitRequest,
  Decision,
  HistoryStore,
  Identity,
  Projection,
  TreeFile,
} from "./history.ts";
import {
  commitPayload,
  type EncodedObject,
  encodeObject,
  parseCommit,
  parseTree,
  signedCommitText,
  TREE_MODE,
  type TreeEntry,
  utf8,
} from "./git_objects.ts";
import { formatMessage, parseMessage } from "./commit_message.ts";
import { identLine, parseIdentLine } from "./identity.ts";
import { allowedSignersLine, type SigningKey, signSshsig, sshPublicKey } from "./sshsig.ts";
import {
  activateNextSigningKey,
  createNextSigningKey,
  loadOrCreateSigningKey,
  rotatedAllowedSigners,
  settleSigningKey,
  signersTimestamp,
} from "./signing_key.ts";
import { acquireDataLock, type DataLock } from "./data_lock.ts";
import { ObjectDatabase } from "./object_database.ts";
import { lockRef, readRef } from "./ref_file.ts";
import { ensureBareRepository, MAIN_REF, removeCrashLeftovers } from "./bare_repository.ts";
import {
  type FileChange,
  forEachLimited,
  HeadTree,
  joinPath,
  type StagedTree,
} from "./head_tree.ts";
import { syncDirectory } from "./durable_file.ts";

/** Options of {@link openDiskStore}. */
export interface DiskStoreOptions<S> {
  /** The data directory; created when missing. */
  dir: string;
  projection: Projection<S>;
  /** The service identity recorded as committer of every commit. */
  committer: Identity;
}

/** What a key rotation did. */
export interface KeyRotation {
  /** The commit that records it. */
  oid: string;
  /** The OpenSSH public keys, `ssh-ed25519 AAAA...`. */
  retiredKey: string;
  activeKey: string;
  /** When the new key became valid, as allowed_signers writes it. */
  validAfter: string;
  at: Date;
  /** keys/allowed_signers after the rotation. */
  allowedSigners: string;
}

/** Options of {@link rotateSigningKey}. */
export interface RotateKeyOptions {
  /** The commit that records the rotation; the store adds keys/allowed_signers to its files. */
  describe: (rotation: Omit<KeyRotation, "oid" | "allowedSigners">) => CommitRequest;
  now?: () => Date;
}

/**
 * Opens the data directory (refused while another process holds it, such as
 * the running service), rotates its signing key and closes it again.
 */
export async function rotateSigningKey(
  options: RotateKeyOptions & { dir: string; committer: Identity },
): Promise<KeyRotation> {
  await Deno.stat(`${options.dir}/history.git`).catch(() => {
    throw new Error(`Cannot rotate the signing key: "${options.dir}" holds no history`);
  });
  const store = await openDiskStore({
    dir: options.dir,
    projection: NO_PROJECTION,
    committer: options.committer,
  });
  try {
    return await (store as DiskStore<null>).rotateKey(options);
  } finally {
    await store.close();
  }
}

const NO_PROJECTION: Projection<null> = {
  empty: () => null,
  wants: () => false,
  apply: () => {},
  setHead: () => {},
};

/** Path of the public keys in every tree. */
export const ALLOWED_SIGNERS_PATH = "keys/allowed_signers";

const MAX_ATTEMPTS = 20;
const TREE_CACHE_SIZE = 4096;
const decoder = new TextDecoder();

/**
 * Opens (creating on first use) the store in `options.dir`. Refuses a data
 * directory that another open store holds. Builds the projection from the
 * head tree before resolving.
 */
export async function openDiskStore<S>(options: DiskStoreOptions<S>): Promise<HistoryStore<S>> {
  await Deno.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const lock = await acquireDataLock(options.dir);
  try {
    const key = await loadOrCreateSigningKey(`${options.dir}/signing_key`);
    const gitdir = `${options.dir}/history.git`;
    await ensureBareRepository(gitdir);
    await syncDirectory(options.dir);
    await removeCrashLeftovers(gitdir);
    const store = new DiskStore(options, { gitdir, key, lock });
    await store.reload();
    await store.settleSigningKey();
    return store;
  } catch (error) {
    lock.release();
    throw error;
  }
}

interface Resources {
  gitdir: string;
  key: SigningKey;
  lock: DataLock;
}

interface PreparedCommit {
  oid: string;
  objects: EncodedObject[];
  staged: StagedTree;
  contents: Map<string, Uint8Array | null>;
  signers: string;
}

class DiskStore<S> implements HistoryStore<S> {
  #options: DiskStoreOptions<S>;
  #gitdir: string;
  #key: SigningKey;
  #lock: DataLock;
  #objects: ObjectDatabase;
  #signerLine: string;
  #state: S;
  #head: string | null = null;
  #tree = new HeadTree();
  #signers: string | null = null;
  #listeners: Array<(oid: string) => void> = [];
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #trees = new Map<string, TreeEntry[]>();

  constructor(options: DiskStoreOptions<S>, resources: Resources) {
    this.#options = options;
    this.#gitdir = resources.gitdir;
    this.#key = resources.key;
    this.#lock = resources.lock;
    this.#objects = new ObjectDatabase(resources.gitdir);
    this.#signerLine = allowedSignersLine(resources.key.publicKey);
    this.#state = options.projection.empty();
  }

  get state(): S {
    return this.#state;
  }

  head(): string | null {
    return this.#head;
  }

  transact<T>(decide: (state: S) => Decision<T>): Promise<{ oid: string | null; result: T }> {
    if (this.#closed) {
      return Promise.reject(new Error(`Cannot append to "${this.#gitdir}": the store is closed`));
    }
    const run = this.#queue.then(() => this.#transactNow(decide));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async readObject(
    oid: string,
  ): Promise<{ type: "blob" | "tree" | "commit" | "tag"; body: Uint8Array }> {
    const { type, body } = await this.#objects.read(oid);
    return { type, body };
  }

  async readFile(commit: string, path: string): Promise<Uint8Array | null> {
    const { tree } = parseCommit(await this.#objects.readTyped(commit, "commit"));
    const entry = await this.#entryAt(tree, path);
    if (entry === null || entry.mode === TREE_MODE) return null;
    return await this.#objects.readTyped(entry.oid, "blob");
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
      file.content = await this.#objects.readTyped(file.oid, "blob");
    });
    return files;
  }

  async log(options: { from?: string; path?: string; limit?: number } = {}): Promise<CommitInfo[]> {
    const commits: CommitInfo[] = [];
    let oid = options.from ?? this.#head;
    while (oid !== null && (options.limit === undefined || commits.length < options.limit)) {
      const body = await this.#objects.readTyped(oid, "commit");
      const commit = parseCommit(body);
      if (options.path === undefined || (await this.#touches(commit, options.path))) {
        commits.push(toCommitInfo(oid, commit));
      }
      oid = commit.parents[0] ?? null;
    }
    return commits;
  }

  allowedSigners(): string {
    return withLine(this.#signers, this.#signerLine);
  }

  onAppend(listener: (oid: string) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    this.#lock.release();
  }

  /** Rebuilds head, head tree and state from `refs/heads/main`. */
  async reload(): Promise<void> {
    const head = await readRef(this.#gitdir, MAIN_REF);
    const root = head === null
      ? null
      : parseCommit(await this.#objects.readTyped(head, "commit")).tree;
    const tree = await HeadTree.load(root, (oid) => this.#readTree(oid));
    const state = this.#options.projection.empty();
    await this.#applyFiles(state, tree.files());
    const signersOid = tree.fileOid(ALLOWED_SIGNERS_PATH);
    this.#signers = signersOid === null
      ? null
      : decoder.decode(await this.#objects.readTyped(signersOid, "blob"));
    if (head !== null) this.#options.projection.setHead(state, head);
    this.#head = head;
    this.#tree = tree;
    this.#state = state;
  }

  /** Finishes or abandons a key rotation a crash interrupted; refuses a retired key. */
  async settleSigningKey(): Promise<void> {
    this.#useKey(await settleSigningKey(this.#keyPath(), this.#key, this.#signers));
  }

  /**
   * Replaces the signing key: the new key signs one commit that retires the
   * old key in keys/allowed_signers (valid-before one second before the
   * commit) and lists the new one (valid-after the commit's time). The new
   * key file becomes active only after that commit is durable.
   */
  async rotateKey(options: RotateKeyOptions): Promise<KeyRotation> {
    if (this.#head === null || this.#signers === null) {
      throw new Error(`Cannot rotate the signing key of "${this.#gitdir}": the history is empty`);
    }
    const at = await this.#rotationTime(options.now ?? (() => new Date()));
    const retired = this.#key;
    const next = await createNextSigningKey(this.#keyPath());
    const signers = rotatedAllowedSigners(this.#signers, retired.publicKey, next.publicKey, at);
    const rotation = {
      retiredKey: sshPublicKey(retired.publicKey),
      activeKey: sshPublicKey(next.publicKey),
      validAfter: signersTimestamp(at),
      at,
    };
    const request = options.describe(rotation);
    const files = new Map(request.files).set(ALLOWED_SIGNERS_PATH, utf8(signers));
    this.#useKey(next);
    let oid: string | null;
    try {
      ({ oid } = await this.transact(() => ({ commit: { ...request, at, files }, result: null })));
    } catch (error) {
      this.#useKey(retired);
      throw error;
    }
    await activateNextSigningKey(this.#keyPath());
    return { ...rotation, oid: oid ?? "", allowedSigners: signers };
  }

  /** A rotation time after the head commit's, so no old-key commit falls after it. */
  async #rotationTime(now: () => Date): Promise<Date> {
    const head = parseCommit(await this.#objects.readTyped(this.#head!, "commit"));
    const earliest = (parseIdentLine(head.committer).at.getTime() / 1000 + 1) * 1000;
    const wait = earliest - now().getTime();
    if (wait > 5000) {
      throw new Error(
        `Cannot rotate the signing key: the last commit is dated ${wait} ms in the future`,
      );
    }
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return now();
  }

  #useKey(key: SigningKey): void {
    this.#key = key;
    this.#signerLine = allowedSignersLine(key.publicKey);
  }

  #keyPath(): string {
    return `${this.#options.dir}/signing_key`;
  }

  async #transactNow<T>(decide: (state: S) => Decision<T>) {
    for (let attempt = 1;; attempt++) {
      const decision = decide(this.#state);
      if (decision.commit === null) return { oid: null, result: decision.result };
      const prepared = await this.#prepare(decision.commit);
      if (await this.#write(prepared)) {
        this.#advance(prepared);
        return { oid: prepared.oid, result: decision.result };
      }
      if (attempt === MAX_ATTEMPTS) {
        throw new Error(`Cannot append to "${this.#gitdir}": ${MAIN_REF} moved ${attempt} times`);
      }
      await this.reload();
    }
  }

  /**
   * Makes the commit's objects durable and then moves the ref, or resolves
   * false without writing when the ref no longer points at the known head.
   * The lock file's new value is flushed while the objects are written; the
   * rename that moves the ref waits for both.
   */
  async #write(prepared: PreparedCommit): Promise<boolean> {
    const lock = await lockRef(this.#gitdir, MAIN_REF, this.#head);
    if (lock === null) return false;
    try {
      const written = await Promise.allSettled([
        this.#objects.write(prepared.objects),
        lock.write(prepared.oid),
      ]);
      for (const result of written) if (result.status === "rejected") throw result.reason;
      await lock.commit();
    } finally {
      await lock.release();
    }
    return true;
  }

  async #prepare(request: CommitRequest): Promise<PreparedCommit> {
    const contents = new Map(request.files);
    const requested = contents.get(ALLOWED_SIGNERS_PATH);
    const current = requested === undefined ? this.#signers : decodeOrNull(requested);
    const signers = withLine(current, this.#signerLine);
    if (signers !== current) contents.set(ALLOWED_SIGNERS_PATH, utf8(signers));
    const blobs: EncodedObject[] = [];
    const changes = new Map<string, FileChange>();
    for (const [path, content] of contents) {
      const blob = content === null ? null : encodeObject("blob", content);
      if (blob !== null) blobs.push(blob);
      changes.set(path, blob?.oid ?? null);
    }
    const staged = this.#tree.stage(changes);
    const commit = await this.#signedCommit(request, staged.root);
    return {
      oid: commit.oid,
      objects: [...blobs, ...staged.trees, commit],
      staged,
      contents,
      signers,
    };
  }

  async #signedCommit(request: CommitRequest, tree: string): Promise<EncodedObject> {
    const fields = {
      tree,
      parents: this.#head === null ? [] : [this.#head],
      author: identLine(request.author, request.at),
      committer: identLine(this.#options.committer, request.at),
      message: formatMessage(request.subject, request.trailers),
    };
    const signature = await signSshsig(this.#key, utf8(commitPayload(fields)));
    return encodeObject("commit", utf8(signedCommitText(fields, signature)));
  }

  #advance(prepared: PreparedCommit): void {
    this.#tree.apply(prepared.staged);
    this.#head = prepared.oid;
    this.#signers = prepared.signers;
    const { projection } = this.#options;
    for (const [path] of prepared.staged.changed) {
      if (projection.wants(path)) {
        projection.apply(this.#state, path, prepared.contents.get(path) ?? null);
      }
    }
    projection.setHead(this.#state, prepared.oid);
    for (const listener of this.#listeners) {
      try {
        listener(prepared.oid);
      } catch (error) {
        reportError(error);
      }
    }
  }

  async #applyFiles(state: S, files: Array<[string, string]>): Promise<void> {
    const { projection } = this.#options;
    const wanted = files.filter(([path]) => projection.wants(path));
    const batch = 64;
    for (let start = 0; start < wanted.length; start += batch) {
      const slice = wanted.slice(start, start + batch);
      const contents = await Promise.all(
        slice.map(([, oid]) => this.#objects.readTyped(oid, "blob")),
      );
      slice.forEach(([path], i) => projection.apply(state, path, contents[i] ?? null));
    }
  }

  async #touches(commit: { tree: string; parents: string[] }, path: string): Promise<boolean> {
    const mine = await this.#entryAt(commit.tree, path);
    const parent = commit.parents[0];
    if (parent === undefined) return mine !== null;
    const parentTree = parseCommit(await this.#objects.readTyped(parent, "commit")).tree;
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
    const entries = parseTree(await this.#objects.readTyped(oid, "tree"));
    if (this.#trees.size >= TREE_CACHE_SIZE) this.#trees.clear();
    this.#trees.set(oid, entries);
    return entries;
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

function withLine(text: string | null, line: string): string {
  if (text === null || text === "") return line;
  const key = line.trimEnd().split(" ").slice(-2).join(" ");
  if (text.split("\n").some((listed) => listed.trimEnd().endsWith(` ${key}`))) return text;
  return text.endsWith("\n") ? text + line : `${text}\n${line}`;
}

function decodeOrNull(content: Uint8Array | null): string | null {
  return content === null ? null : decoder.decode(content);
}
