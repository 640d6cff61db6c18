/**
 * Reads a history repository with stock git only: `rev-list` for the
 * first-parent chain, one `log --raw` for what every commit changed, one
 * long-running `cat-file --batch` for the objects, and `fsck` alongside.
 * Every object read through `cat-file` is hashed again and compared with its
 * oid. Replacement refs are ignored.
 */
import { createHash } from "node:crypto";
import { parseCommitObject } from "./commit_object.ts";
import {
  type Change,
  isCheckedFile,
  type LoadedCommit,
  namedAgreements,
  versionDirOf,
  type VersionFile,
  type VersionTree,
} from "./loaded_commit.ts";

/** One object as `git cat-file --batch` returns it. */
export interface GitObject {
  oid: string;
  type: string;
  body: Uint8Array;
}

/** What `git fsck --strict` said. */
export interface FsckResult {
  ok: boolean;
  output: string;
}

const GIT_ENV = { GIT_NO_REPLACE_OBJECTS: "1", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };
const TREE_MODE = "40000";
const GITLINK_MODE = "160000";
const ZERO_OID = "0".repeat(40);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Clones `url` with `git clone --bare` into a new temporary directory; returns its path. */
export async function cloneBare(url: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-verify-" });
  try {
    await git(null, ["clone", "--bare", "--quiet", "--", url, `${dir}/history.git`]);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return dir;
}

/** A repository opened for reading. Close it to end its `cat-file` process. */
export class Repository {
  #path: string;
  #catFile: CatFile;
  #versions = new Map<string, VersionTree>();
  #blobs = new Map<string, Uint8Array>();

  private constructor(path: string, catFile: CatFile) {
    this.#path = path;
    this.#catFile = catFile;
  }

  /** Opens the repository (bare or not) at `path`; throws when git does not see one there. */
  static async open(path: string): Promise<Repository> {
    await git(path, ["rev-parse", "--git-dir"]);
    return new Repository(path, CatFile.start(path));
  }

  /** The commit HEAD points at. */
  async head(): Promise<string> {
    const out = await git(this.#path, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
    return decoder.decode(out).trim();
  }

  /** The first-parent chain from the root to `head`, oldest first. */
  async firstParentChain(head: string): Promise<string[]> {
    const out = await git(this.#path, ["rev-list", "--first-parent", "--parents", head]);
    return decoder.decode(out).trim().split("\n").map((line) => line.split(" ")[0]!).reverse();
  }

  /** What each commit of the first-parent chain changed against its first parent. */
  async changes(head: string): Promise<Map<string, Change[]>> {
    const out = await git(this.#path, [
      "log",
      "--first-parent",
      "--no-show-signature",
      "--no-renames",
      "--no-ext-diff",
      "--raw",
      "-r",
      "--no-abbrev",
      "--root",
      "-z",
      "--format=%x01%H",
      head,
    ]);
    return parseRawLog(out);
  }

  /** Runs `git fsck --strict` over the whole repository; `signal` stops it. */
  async fsck(signal: AbortSignal): Promise<FsckResult> {
    const output = await new Deno.Command("git", {
      args: ["-C", this.#path, "fsck", "--strict", "--no-dangling", "--no-progress"],
      env: GIT_ENV,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
    const text = decoder.decode(output.stdout) + decoder.decode(output.stderr);
    return { ok: output.success, output: text.trim() };
  }

  /** A file's content at a commit, or null when the path is absent there. */
  async readFile(commit: string, path: string): Promise<Uint8Array | null> {
    const [object] = await this.#catFile.read([`${commit}:${path}`]);
    return object?.type === "blob" ? object.body : null;
  }

  /**
   * Loads the commits of `chain` in chunks, oldest first, each with its
   * changes, the contents of its checked files and its named version
   * directories. Objects are requested chunk by chunk, so each chunk costs a
   * few round trips to `cat-file`, not one per object.
   */
  async *load(
    chain: string[],
    changes: Map<string, Change[]>,
    chunkSize = 512,
  ): AsyncGenerator<LoadedCommit[]> {
    const chunk = (start: number) => {
      const loading = this.#loadChunk(chain.slice(start, start + chunkSize), changes);
      loading.catch(() => undefined);
      return loading;
    };
    let next = chain.length > 0 ? chunk(0) : null;
    for (let start = 0; next !== null; start += chunkSize) {
      const loaded = await next;
      next = start + chunkSize < chain.length ? chunk(start + chunkSize) : null;
      yield loaded;
    }
  }

  async #loadChunk(oids: string[], changes: Map<string, Change[]>): Promise<LoadedCommit[]> {
    const objects = await this.#readTyped(oids, "commit");
    const loaded = oids.map((oid, i): LoadedCommit => ({
      object: parseCommitObject(oid, objects[i]!.body),
      changes: changes.get(oid) ?? [],
      files: new Map(),
      versions: new Map(),
    }));
    await this.#loadFiles(loaded);
    await this.#loadVersions(loaded);
    return loaded;
  }

  /** Ends the `cat-file` process. */
  async close(): Promise<void> {
    await this.#catFile.close();
  }

  async #loadFiles(commits: LoadedCommit[]): Promise<void> {
    const wanted = new Set<string>();
    for (const commit of commits) {
      for (const change of commit.changes) {
        if (change.oid !== null && isCheckedFile(change.path) && change.mode !== GITLINK_MODE) {
          wanted.add(change.oid);
        }
      }
    }
    const oids = [...wanted];
    const blobs = await this.#readTyped(oids, "blob");
    const byOid = new Map(oids.map((oid, i) => [oid, blobs[i]!.body]));
    for (const commit of commits) {
      for (const change of commit.changes) {
        if (!isCheckedFile(change.path)) continue;
        commit.files.set(change.path, change.oid === null ? null : byOid.get(change.oid) ?? null);
      }
    }
  }

  async #loadVersions(commits: LoadedCommit[]): Promise<void> {
    const requests: Array<{ commit: LoadedCommit; key: string }> = [];
    for (const commit of commits) {
      for (const key of namedAgreements(commit.object.trailers)) requests.push({ commit, key });
    }
    const roots = await this.#catFile.read(
      requests.map(({ commit, key }) => `${commit.object.oid}:${versionDirOf(key)}`),
    );
    const missing = new Map<string, Uint8Array>();
    for (const root of roots) {
      if (root?.type !== "tree") continue;
      verifyHash(root);
      if (!this.#versions.has(root.oid)) missing.set(root.oid, root.body);
    }
    for (const tree of await this.#expandTrees(missing)) this.#versions.set(tree.oid, tree);
    requests.forEach(({ commit, key }, i) => {
      const root = roots[i];
      commit.versions.set(key, root?.type === "tree" ? this.#versions.get(root.oid)! : null);
    });
  }

  async #expandTrees(roots: Map<string, Uint8Array>): Promise<VersionTree[]> {
    const listings = new Map<string, Map<string, { mode: string; oid: string }>>();
    let level = [...roots].map(([oid, body]) => ({ root: oid, prefix: "", body }));
    for (const { root } of level) listings.set(root, new Map());
    while (level.length > 0) {
      const subtrees: Array<{ root: string; prefix: string; oid: string }> = [];
      for (const { root, prefix, body } of level) {
        for (const entry of parseTree(body)) {
          const path = prefix + entry.name;
          if (entry.mode === TREE_MODE) subtrees.push({ root, prefix: `${path}/`, oid: entry.oid });
          else listings.get(root)!.set(path, { mode: entry.mode, oid: entry.oid });
        }
      }
      const bodies = await this.#readTyped([...new Set(subtrees.map((s) => s.oid))], "tree");
      const byOid = new Map(bodies.map((object) => [object.oid, object.body]));
      level = subtrees.map((s) => ({ root: s.root, prefix: s.prefix, body: byOid.get(s.oid)! }));
    }
    await this.#cacheBlobs(listings);
    return [...listings].map(([oid, listing]) => {
      const files = new Map<string, VersionFile>();
      for (const [path, { mode, oid: blob }] of listing) {
        files.set(path, { mode, content: this.#blobs.get(blob) ?? new Uint8Array() });
      }
      return { oid, files };
    });
  }

  async #cacheBlobs(listings: Map<string, Map<string, { mode: string; oid: string }>>) {
    const wanted = new Set<string>();
    for (const listing of listings.values()) {
      for (const { mode, oid } of listing.values()) {
        if (mode !== GITLINK_MODE && !this.#blobs.has(oid)) wanted.add(oid);
      }
    }
    const oids = [...wanted];
    const blobs = await this.#readTyped(oids, "blob");
    oids.forEach((oid, i) => this.#blobs.set(oid, blobs[i]!.body));
  }

  async #readTyped(oids: string[], type: string): Promise<GitObject[]> {
    if (oids.length === 0) return [];
    const objects = await this.#catFile.read(oids);
    return objects.map((object, i) => {
      if (object === null) throw new Error(`Cannot read ${type} ${oids[i]}: it is missing`);
      if (object.type !== type) {
        throw new Error(`Cannot read ${type} ${oids[i]}: it is a ${object.type}`);
      }
      verifyHash(object);
      return object;
    });
  }
}

interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

/** A long-running `git cat-file --batch`; requests are written in bulk and answered in order. */
class CatFile {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: StreamReader;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#reader = new StreamReader(child.stdout.getReader());
  }

  static start(path: string): CatFile {
    const child = new Deno.Command("git", {
      args: ["-C", path, "cat-file", "--batch"],
      env: GIT_ENV,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    return new CatFile(child);
  }

  /** The objects named, in order; null for a name git cannot resolve. */
  read(names: string[]): Promise<Array<GitObject | null>> {
    const run = this.#queue.then(() => this.#readNow(names));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#writer.close().catch(() => undefined);
    await this.#reader.cancel();
    await this.#child.status;
  }

  async #readNow(names: string[]): Promise<Array<GitObject | null>> {
    if (names.length === 0) return [];
    for (const name of names) {
      if (/[\n\r]/.test(name)) throw new Error(`Cannot read object "${name}": it spans lines`);
    }
    const writing = this.#writer.write(encoder.encode(names.join("\n") + "\n"));
    const objects: Array<GitObject | null> = [];
    for (const name of names) {
      const header = await this.#reader.line();
      const match = /^([0-9a-f]{40}) (\w+) (\d+)$/.exec(header);
      if (match === null) {
        if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
          objects.push(null);
          continue;
        }
        throw new Error(`Cannot read object "${name}": git cat-file said "${header}"`);
      }
      const body = await this.#reader.exact(Number(match[3]));
      await this.#reader.exact(1);
      objects.push({ oid: match[1]!, type: match[2]!, body });
    }
    await writing;
    return objects;
  }
}

/** Reads lines and exact byte counts from a byte stream. */
class StreamReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = new Uint8Array(0);
  #offset = 0;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#reader = reader;
  }

  async line(): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf(0x0a, this.#offset);
      if (end >= 0) {
        const line = decoder.decode(this.#buffer.subarray(this.#offset, end));
        this.#offset = end + 1;
        return line;
      }
      await this.#fill();
    }
  }

  async exact(length: number): Promise<Uint8Array> {
    while (this.#buffer.length - this.#offset < length) await this.#fill();
    const out = this.#buffer.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }

  async #fill(): Promise<void> {
    const { value, done } = await this.#reader.read();
    if (done) throw new Error("Cannot read from git cat-file: it ended early");
    const rest = this.#buffer.subarray(this.#offset);
    const merged = new Uint8Array(rest.length + value.length);
    merged.set(rest);
    merged.set(value, rest.length);
    this.#buffer = merged;
    this.#offset = 0;
  }
}

/**
 * Parses `git log --raw -z --format=%x01%H`: per commit `\x01<oid>\0`, then
 * `:<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0` per change.
 */
export function parseRawLog(bytes: Uint8Array): Map<string, Change[]> {
  const changes = new Map<string, Change[]>();
  let offset = 0;
  const until = (byte: number): string => {
    const end = bytes.indexOf(byte, offset);
    if (end < 0) throw new Error("Cannot parse git log --raw output: it ends early");
    const text = decoder.decode(bytes.subarray(offset, end));
    offset = end + 1;
    return text;
  };
  let current: Change[] | null = null;
  while (offset < bytes.length) {
    const byte = bytes[offset];
    if (byte === 0x01) {
      offset++;
      current = [];
      changes.set(until(0), current);
    } else if (byte === 0x0a) {
      offset++;
    } else if (byte === 0x3a && current !== null) {
      offset++;
      const [, mode, , oid, status] = until(0).split(" ");
      current.push({
        path: until(0),
        status: status ?? "",
        mode: mode ?? "",
        oid: oid === undefined || oid === ZERO_OID ? null : oid,
      });
    } else {
      throw new Error(`Cannot parse git log --raw output at byte ${offset}`);
    }
  }
  return changes;
}

function parseTree(body: Uint8Array): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const nul = body.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > body.length) {
      throw new Error(`Cannot parse tree: the entry at byte ${offset} is truncated`);
    }
    const oid = Array.from(body.subarray(nul + 1, nul + 21), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    entries.push({
      mode: decoder.decode(body.subarray(offset, space)),
      name: decoder.decode(body.subarray(space + 1, nul)),
      oid,
    });
    offset = nul + 21;
  }
  return entries;
}

function verifyHash(object: GitObject): void {
  const hash = createHash("sha1");
  hash.update(encoder.encode(`${object.type} ${object.body.length}\0`));
  hash.update(object.body);
  const actual = hash.digest("hex");
  if (actual !== object.oid) {
    throw new Error(`Object ${object.oid} is corrupt: its content hashes to ${actual}`);
  }
}

async function git(path: string | null, args: string[]): Promise<Uint8Array> {
  const output = await new Deno.Command("git", {
    args: path === null ? args : ["-C", path, ...args],
    env: GIT_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const why = decoder.decode(output.stderr).trim() || `exit ${output.code}`;
    throw new Error(`Cannot run "git ${args.join(" ")}" in "${path ?? "."}": ${why}`);
  }
  return output.stdout;
}
