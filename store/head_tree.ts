/**
 * The head commit's tree kept in memory, directory by directory, so that an
 * append builds only the trees on the paths to the files it changes.
 */
import {
  type EncodedObject,
  encodeObject,
  FILE_MODE,
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
  directories: Map<string, Map<string, TreeEntry> | null>;
}

/** Reads the entries of a tree oid. */
export type ReadTree = (oid: string) => Promise<TreeEntry[]>;

const PARALLEL_READS = 16;
const MODES = new Map([FILE_MODE, TREE_MODE].map((mode) => [mode, mode]));
const OID_BYTES = new Uint8Array(40);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Names `git fsck --strict` refuses, also in their NTFS and HFS+ spellings.
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/** The head tree: directory path (`""` is the root) to its entries. */
export class HeadTree {
  #directories = new Map<string, Map<string, TreeEntry>>([["", new Map()]]);
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
        tree.#directories.set(directory, new Map(entries.map((entry) => [entry.name, entry])));
        for (const entry of entries) {
          if (entry.mode === TREE_MODE) next.push([joinPath(directory, entry.name), entry.oid]);
        }
      });
      level = next;
    }
    return tree;
  }

  /** The root tree oid, or null before the first commit. */
  get root(): string | null {
    return this.#root;
  }

  /** Every file as `[path, blob oid]`, sorted by path. */
  files(): Array<[string, string]> {
    const files: Array<[string, string]> = [];
    for (const [directory, entries] of this.#directories) {
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
      if (entries === null) this.#directories.delete(directory);
      else this.#directories.set(directory, entries);
    }
    this.#root = staged.root;
  }

  #rebuild(overlay: Map<string, Map<string, TreeEntry | null>>) {
    const directories = new Map<string, Map<string, TreeEntry> | null>();
    const trees: EncodedObject[] = [];
    const deepestFirst = [...overlay.keys()].sort((a, b) => depth(b) - depth(a));
    let root = "";
    for (const directory of deepestFirst) {
      const entries = new Map(this.#directories.get(directory));
      for (const [name, entry] of overlay.get(directory) ?? []) {
        if (entry === null) entries.delete(name);
        else entries.set(name, entry);
      }
      const slash = directory.lastIndexOf("/");
      const parent = overlay.get(slash < 0 ? "" : directory.slice(0, slash));
      const name = directory.slice(slash + 1);
      if (entries.size === 0 && directory !== "") {
        directories.set(directory, null);
        parent?.set(name, null);
        continue;
      }
      const tree = encodeObject("tree", serializeTree(entries.values()));
      trees.push(tree);
      directories.set(directory, entries);
      if (directory === "") root = tree.oid;
      else parent?.set(name, { mode: TREE_MODE, name, oid: tree.oid });
    }
    return { root, trees, directories };
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
    if (this.#directories.has(path)) {
      throw new Error(`Cannot write or remove file "${path}": it is a directory`);
    }
  }

  #entry(path: string): TreeEntry | undefined {
    const slash = path.lastIndexOf("/");
    const directory = slash < 0 ? "" : path.slice(0, slash);
    return this.#directories.get(directory)?.get(path.slice(slash + 1));
  }
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
