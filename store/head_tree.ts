/**
 * The head commit's tree kept in memory, directory by directory, so that an
 * append builds only the trees on the paths to the files it changes.
 */
import {
  type EncodedObject,
  encodeObject,
  FILE_MODE,
  type IndexedTree,
  replaceTreeOids,
  serializeIndexedTree,
  serializeTree,
  TREE_MODE,
  type TreeEntry,
} from "./git_objects.ts";

/** A file change: the new blob's oid, or null to remove the file. */
export type FileChange = string | null;

/** The trees of a new head, computed but not yet applied. */
export interface StagedTree {
  /** The new root tree oid. */
  root: string;
  /** The tree objects to write. */
  trees: EncodedObject[];
  /** Files whose content changes, with the new blob oid (null: removed). */
  changed: Array<[string, FileChange]>;
  /** New entries of each rebuilt directory; null when it disappears. */
  directories: Map<string, DirectoryEntries | null>;
  /** The tree object of each rebuilt directory that remains. */
  treeObjects: Map<string, EncodedObject>;
}

/** A directory's latest version written whole, a base for the deltas of the next ones. */
interface Anchor {
  tree: EncodedObject;
  deltas: number;
}

/** Reads the entries of a tree oid. */
export type ReadTree = (oid: string) => Promise<TreeEntry[]>;

const PARALLEL_READS = 16;
/** Entries from which a directory keeps its serialised tree to patch the next version. */
const INDEXED_ENTRIES = 64;
/** Versions of a large directory offered as deltas against one whole version. */
const DELTAS_PER_ANCHOR = 32;
/** The serialised tree of a large directory's entries, by the entries' version. */
const indexedTrees = new WeakMap<DirectoryEntries, IndexedTree>();
/**
 * Changes a directory version keeps on top of the map it shares with the
 * versions before it; past that many, the next version gets a map of its own.
 */
const SHARED_CHANGES = 64;
const MODES = new Map([FILE_MODE, TREE_MODE].map((mode) => [mode, mode]));
const OID_BYTES = new Uint8Array(40);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Names `git fsck --strict` refuses, also in their NTFS and HFS+ spellings.
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * The head tree: directory path (`""` is the root) to its entries. A layer
 * (see {@link HeadTree.layer}) holds only what changed on top of its base.
 */
export class HeadTree {
  /** Directories of this tree; in a layer, null marks one removed from the base. */
  #directories = new Map<string, DirectoryEntries | null>([["", DirectoryEntries.EMPTY]]);
  #base: HeadTree | null = null;
  /**
   * Per large directory, its latest version written whole and how many
   * versions since were offered as deltas against it. In a layer, these
   * read through to the base's.
   */
  #anchors = new Map<string, Anchor>();
  #root: string | null = null;

  /** Loads every tree below `root` (null: the empty tree of a new repository). */
  static async load(root: string | null, read: ReadTree): Promise<HeadTree> {
    const tree = new HeadTree();
    if (root === null) return tree;
    tree.#root = root;
    let level: Array<[string, string]> = [["", root]];
    while (level.length > 0) {
      const next: Array<[string, string]> = [];
      await forEachLimited(level, async ([directory, oid]) => {
        const entries = (await read(oid)).map(compactEntry);
        tree.#directories.set(directory, DirectoryEntries.of(entries));
        for (const entry of entries) {
          if (entry.mode === TREE_MODE) next.push([joinPath(directory, entry.name), entry.oid]);
        }
      });
      level = next;
    }
    return tree;
  }

  /**
   * A tree that starts equal to this one and takes staged changes without
   * altering it, so that commits can be built one on top of another before
   * any is applied here. It reads through to this tree, which must not
   * change while the layer is in use.
   */
  layer(): HeadTree {
    const layer = new HeadTree();
    layer.#directories = new Map();
    layer.#base = this;
    layer.#root = this.#root;
    return layer;
  }

  /** The root tree oid, or null before the first commit. */
  get root(): string | null {
    return this.#root;
  }

  /** Every file as `[path, blob oid]`, sorted by path. */
  files(): Array<[string, string]> {
    const files: Array<[string, string]> = [];
    for (const [directory, entries] of this.#allDirectories()) {
      for (const entry of entries.values()) {
        if (entry.mode !== TREE_MODE) files.push([joinPath(directory, entry.name), entry.oid]);
      }
    }
    return files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The blob oid of a file, or null when no file is at `path`. */
  fileOid(path: string): string | null {
    const entry = this.#entry(path);
    return entry === undefined || entry.mode === TREE_MODE ? null : entry.oid;
  }

  /**
   * Computes the trees after `changes` without altering this tree. Throws for
   * a path Git cannot hold or that collides with a file or directory.
   */
  stage(changes: Map<string, FileChange>): StagedTree {
    const overlay = new Map<string, Map<string, TreeEntry | null>>([["", new Map()]]);
    const changed: Array<[string, FileChange]> = [];
    for (const [path, oid] of changes) {
      const segments = splitPath(path);
      this.#assertPlaceable(path, segments, changes);
      const name = segments.at(-1) ?? "";
      const directory = segments.slice(0, -1).join("/");
      for (let i = 0; i < segments.length; i++) {
        const ancestor = segments.slice(0, i).join("/");
        if (!overlay.has(ancestor)) overlay.set(ancestor, new Map());
      }
      overlay.get(directory)?.set(name, oid === null ? null : { mode: FILE_MODE, name, oid });
      if (this.fileOid(path) !== oid) changed.push([path, oid]);
    }
    return { ...this.#rebuild(overlay), changed };
  }

  /** Makes a staged tree the head tree. */
  apply(staged: StagedTree): void {
    for (const [directory, entries] of staged.directories) {
      if (entries !== null) this.#directories.set(directory, entries);
      else if (this.#base !== null) this.#directories.set(directory, null);
      else this.#directories.delete(directory);
    }
    for (const [directory, tree] of staged.treeObjects) {
      if (tree.deltaBase === undefined) this.#anchors.set(directory, { tree, deltas: 0 });
      else {
        const anchor = this.#anchor(directory);
        if (anchor !== undefined) {
          this.#anchors.set(directory, { ...anchor, deltas: anchor.deltas + 1 });
        }
      }
    }
    for (const [directory, entries] of staged.directories) {
      if (entries === null || !staged.treeObjects.has(directory)) this.#anchors.delete(directory);
    }
    this.#root = staged.root;
  }

  #directory(path: string): DirectoryEntries | undefined {
    const own = this.#directories.get(path);
    if (own !== undefined) return own ?? undefined;
    return this.#base === null ? undefined : this.#base.#directory(path);
  }

  #anchor(directory: string): Anchor | undefined {
    return this.#anchors.get(directory) ??
      (this.#base === null ? undefined : this.#base.#anchor(directory));
  }

  #allDirectories(): Map<string, DirectoryEntries> {
    const all = this.#base === null
      ? new Map<string, DirectoryEntries>()
      : this.#base.#allDirectories();
    for (const [path, entries] of this.#directories) {
      if (entries === null) all.delete(path);
      else all.set(path, entries);
    }
    return all;
  }

  #rebuild(overlay: Map<string, Map<string, TreeEntry | null>>) {
    const directories = new Map<string, DirectoryEntries | null>();
    const trees: EncodedObject[] = [];
    const treeObjects = new Map<string, EncodedObject>();
    const deepestFirst = [...overlay.keys()].sort((a, b) => depth(b) - depth(a));
    let root = "";
    for (const directory of deepestFirst) {
      const previous = this.#directory(directory);
      const changed = overlay.get(directory) ?? new Map<string, TreeEntry | null>();
      const entries = (previous ?? DirectoryEntries.EMPTY).with(changed);
      const slash = directory.lastIndexOf("/");
      const parent = overlay.get(slash < 0 ? "" : directory.slice(0, slash));
      const name = directory.slice(slash + 1);
      if (entries.size === 0 && directory !== "") {
        directories.set(directory, null);
        parent?.set(name, null);
        continue;
      }
      const tree: EncodedObject = encodeObject("tree", treeBody(previous, entries, changed));
      const anchor = entries.size < INDEXED_ENTRIES ? undefined : this.#anchor(directory);
      if (
        anchor !== undefined && anchor.deltas < DELTAS_PER_ANCHOR && anchor.tree.oid !== tree.oid
      ) {
        tree.deltaBase = anchor.tree;
      }
      trees.push(tree);
      treeObjects.set(directory, tree);
      directories.set(directory, entries);
      if (directory === "") root = tree.oid;
      else parent?.set(name, { mode: TREE_MODE, name, oid: tree.oid });
    }
    return { root, trees, directories, treeObjects };
  }

  #assertPlaceable(path: string, segments: string[], changes: Map<string, FileChange>): void {
    for (let i = 1; i < segments.length; i++) {
      const prefix = segments.slice(0, i).join("/");
      const written = changes.get(prefix);
      const fileInHead = this.fileOid(prefix) !== null && written !== null;
      if (fileInHead || (written !== undefined && written !== null)) {
        throw new Error(`Cannot write "${path}": "${prefix}" is a file`);
      }
    }
    if (this.#directory(path) !== undefined) {
      throw new Error(`Cannot write or remove file "${path}": it is a directory`);
    }
  }

  #entry(path: string): TreeEntry | undefined {
    const slash = path.lastIndexOf("/");
    const directory = slash < 0 ? "" : path.slice(0, slash);
    return this.#directory(directory)?.get(path.slice(slash + 1));
  }
}

/**
 * The tree body of `entries`. A large directory whose changes only replace
 * the oids of entries it had (as most events do) patches the previous
 * version's bytes instead of sorting and encoding every entry again.
 */
function treeBody(
  previous: DirectoryEntries | undefined,
  entries: DirectoryEntries,
  changed: Map<string, TreeEntry | null>,
): Uint8Array {
  if (entries.size < INDEXED_ENTRIES) return serializeTree(entries.values());
  const cached = previous === undefined ? undefined : indexedTrees.get(previous);
  const oids: Array<[string, string]> = [];
  for (const [name, entry] of changed) {
    if (entry === null || previous?.get(name)?.mode !== entry.mode) {
      oids.length = 0;
      break;
    }
    oids.push([name, entry.oid]);
  }
  const patched = cached === undefined || oids.length === 0 ? null : replaceTreeOids(cached, oids);
  const indexed = patched ?? serializeIndexedTree(entries.values());
  indexedTrees.set(entries, indexed);
  return indexed.body;
}

/** Joins a directory path (`""` for the root) and a name. */
export function joinPath(directory: string, name: string): string {
  return directory === "" ? name : `${directory}/${name}`;
}

/** Runs `work` on every item with at most a few reads in flight. */
export async function forEachLimited<T>(
  items: T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, items.length) }, worker));
}

/**
 * The entry with its oid as a flat string and a shared mode string. A parsed
 * oid is a chain of 20 joined pieces (about 1 KB an oid) until V8 flattens
 * it; the head tree keeps tens of thousands of them.
 */
function compactEntry(entry: TreeEntry): TreeEntry {
  encoder.encodeInto(entry.oid, OID_BYTES);
  return {
    mode: MODES.get(entry.mode) ?? entry.mode,
    name: entry.name,
    oid: entry.oid.length === 40 ? decoder.decode(OID_BYTES) : entry.oid,
  };
}

function splitPath(path: string): string[] {
  const segments = path.split("/");
  for (const segment of segments) {
    if (!isSafeName(segment)) {
      throw new Error(`Cannot write "${path}": "${segment}" is not a name Git accepts`);
    }
  }
  return segments;
}

function isSafeName(name: string): boolean {
  // deno-lint-ignore no-control-regex -- control characters are refused
  if (name === "" || /[\u0000-\u001f\u007f\\]/.test(name)) return false;
  const folded = name.replace(HFS_IGNORABLE, "").toLowerCase().replace(/[. ]+$/, "");
  return folded !== "" && folded !== ".git" && folded !== "git~1" && name !== "..";
}

function depth(directory: string): number {
  return directory === "" ? 0 : directory.split("/").length;
}

/**
 * The entries of one directory version by name, immutable. A new version
 * shares its predecessor's map and keeps only its changes on top (up to
 * {@link SHARED_CHANGES} of them), so an event that changes one entry of a
 * directory of thousands does not copy them all.
 */
export class DirectoryEntries {
  static readonly EMPTY = new DirectoryEntries(new Map(), new Map(), 0);
  /** Shared with other versions; never changed. */
  #shared: Map<string, TreeEntry>;
  /** This version's changes to `#shared`: an entry, or null where one is removed. */
  #changes: Map<string, TreeEntry | null>;
  readonly size: number;

  private constructor(
    shared: Map<string, TreeEntry>,
    changes: Map<string, TreeEntry | null>,
    size: number,
  ) {
    this.#shared = shared;
    this.#changes = changes;
    this.size = size;
  }

  static of(entries: TreeEntry[]): DirectoryEntries {
    const map = new Map(entries.map((entry) => [entry.name, entry]));
    return new DirectoryEntries(map, new Map(), map.size);
  }

  get(name: string): TreeEntry | undefined {
    const changed = this.#changes.get(name);
    if (changed !== undefined) return changed ?? undefined;
    return this.#shared.get(name);
  }

  *values(): IterableIterator<TreeEntry> {
    for (const [name, entry] of this.#shared) {
      if (!this.#changes.has(name)) yield entry;
    }
    for (const entry of this.#changes.values()) {
      if (entry !== null) yield entry;
    }
  }

  /** The version after `changes` (null removes an entry). */
  with(changes: Map<string, TreeEntry | null>): DirectoryEntries {
    let size = this.size;
    for (const [name, entry] of changes) {
      const had = this.get(name) !== undefined;
      size += (entry === null ? 0 : 1) - (had ? 1 : 0);
    }
    if (this.#changes.size + changes.size > SHARED_CHANGES) {
      const map = new Map<string, TreeEntry>();
      for (const entry of this.values()) {
        if (!changes.has(entry.name)) map.set(entry.name, entry);
      }
      for (const entry of changes.values()) if (entry !== null) map.set(entry.name, entry);
      return new DirectoryEntries(map, new Map(), size);
    }
    const own = new Map(this.#changes);
    for (const [name, entry] of changes) own.set(name, entry);
    return new DirectoryEntries(this.#shared, own, size);
  }
}
