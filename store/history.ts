/**
 * The history store: the only door to the Git history repository. One
 * interface, so that another backend (Deno KV) can stand behind it without
 * touching domain/ or routes/.
 */

/** A person or service as Git records it. The store sanitises both fields. */
export interface Identity {
  name: string;
  email: string;
}

/** One commit to append: a readable subject, trailers and the files it writes. */
export interface CommitRequest {
  subject: string;
  /** Trailer lines (`Key: value`) in order. Values are single-line. */
  trailers: Array<[string, string]>;
  author: Identity;
  at: Date;
  /** Path in the tree to new content; null removes the file. */
  files: Map<string, Uint8Array | null>;
}

/**
 * Derived state that follows the history: built from the files of the head
 * tree on open and kept current by applying each appended commit's files.
 */
export interface Projection<S> {
  empty(): S;
  /** Whether the projection reads this path (others are not loaded on open). */
  wants(path: string): boolean;
  /** Applies one file of a commit; content null means the file was removed. */
  apply(state: S, path: string, content: Uint8Array | null): void;
  /** Records the new head after a commit's files were applied. */
  setHead(state: S, oid: string): void;
}

/** A decision taken against the state at one head. */
export interface Decision<T> {
  /** The commit to append, or null when nothing changes (an idempotent retry). */
  commit: CommitRequest | null;
  result: T;
}

/** A commit as read back from the history. */
export interface CommitInfo {
  oid: string;
  parents: string[];
  tree: string;
  author: Identity & { at: Date };
  subject: string;
  trailers: Array<[string, string]>;
  /** The whole message, subject included. */
  message: string;
}

/** A file in a tree, as listed by {@link HistoryStore.readTreeFiles}. */
export interface TreeFile {
  path: string;
  oid: string;
  content: Uint8Array;
}

export interface HistoryStore<S> {
  /** The state at head. Replaced only after an append is durable. */
  readonly state: S;
  /** The oid of `refs/heads/main`, or null in an empty repository. */
  head(): string | null;
  /**
   * Appends one commit with compare-and-swap on `refs/heads/main`: `decide`
   * runs against the state at head; if head moved before the ref update, it
   * runs again against the new head. Resolves only after the commit and the
   * ref update are durable. Errors thrown by `decide` reject unchanged.
   */
  transact<T>(decide: (state: S) => Decision<T>): Promise<{ oid: string | null; result: T }>;
  /** A file's content at a commit, or null when the path is absent. */
  readFile(commit: string, path: string): Promise<Uint8Array | null>;
  /** Every file below a tree oid, with paths relative to it, sorted. */
  readTreeFiles(tree: string): Promise<TreeFile[]>;
  /** Commits from `from` (default head) back, newest first; optionally only those touching `path`. */
  log(options?: { from?: string; path?: string; limit?: number }): Promise<CommitInfo[]>;
  /**
   * One Git object by oid, as its type and uncompressed body; rejects when it
   * is missing. Objects never change, so this is safe at any head.
   */
  readObject(oid: string): Promise<{ type: "blob" | "tree" | "commit" | "tag"; body: Uint8Array }>;
  /**
   * Several objects, in the order asked, in as few reads as the storage
   * allows (Deno KV reads ten entries at once); rejects when one is missing.
   */
  readObjects?(
    oids: string[],
  ): Promise<Array<{ type: "blob" | "tree" | "commit" | "tag"; body: Uint8Array }>>;
  /** The allowed_signers text that verifies every commit. */
  allowedSigners(): string;
  /** Called after each durable append with the new head. */
  onAppend(listener: (oid: string) => void): void;
  close(): Promise<void>;
}
