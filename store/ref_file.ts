/**
 * Loose refs moved the way git moves them: under `<ref>.lock`, created
 * exclusively, with the expected old value checked (compare-and-swap), the
 * new value flushed and renamed into place, and the directory flushed.
 */
import { dirname } from "node:path";
import { syncDirectory, writeAll } from "./durable_file.ts";

const OID = /^[0-9a-f]{40}$/;

/** The oid a ref points at (loose file first, then `packed-refs`), or null. */
export async function readRef(gitdir: string, ref: string): Promise<string | null> {
  const loose = await readTextOrNull(`${gitdir}/${ref}`);
  if (loose !== null) return parseOid(ref, loose.trim());
  const packed = await readTextOrNull(`${gitdir}/packed-refs`);
  for (const line of packed?.split("\n") ?? []) {
    const [oid, name] = line.split(" ");
    if (name === ref && oid !== undefined) return parseOid(ref, oid);
  }
  return null;
}

/** A held `<ref>.lock` whose expected old value has been checked. */
export interface RefLock {
  /** Writes and flushes the new value into the lock file. */
  write(next: string): Promise<void>;
  /** Renames the lock file over the ref and flushes the directory. */
  commit(): Promise<void>;
  /** Removes the lock file unless it was committed. */
  release(): Promise<void>;
}

/**
 * Locks `ref` and checks that it holds `expected` (null: the ref must not
 * exist). Resolves null, holding nothing, when the ref holds another value.
 * The lock is the compare-and-swap: no other writer (git included) moves the
 * ref while it exists.
 */
export async function lockRef(
  gitdir: string,
  ref: string,
  expected: string | null,
): Promise<RefLock | null> {
  const path = `${gitdir}/${ref}`;
  const lockPath = `${path}.lock`;
  const file = await openLock(ref, lockPath);
  let state: "open" | "written" | "done" = "open";
  const release = async () => {
    if (state === "done") return;
    if (state === "open") file.close();
    state = "done";
    await Deno.remove(lockPath);
  };
  try {
    if ((await readRef(gitdir, ref)) !== expected) {
      await release();
      return null;
    }
  } catch (error) {
    await release();
    throw error;
  }
  return {
    async write(next) {
      await writeAll(file, new TextEncoder().encode(`${parseOid(ref, next)}\n`));
      await file.sync();
      file.close();
      state = "written";
    },
    async commit() {
      if (state !== "written") throw new Error(`Cannot move ${ref}: no new value was written`);
      await Deno.rename(lockPath, path);
      state = "done";
      await syncDirectory(dirname(path));
    },
    release,
  };
}

/**
 * Removes a `<ref>.lock` left behind by a process that was killed. Only safe
 * while the caller holds the data-directory lock.
 */
export async function removeStaleRefLock(gitdir: string, ref: string): Promise<void> {
  try {
    await Deno.remove(`${gitdir}/${ref}.lock`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

async function openLock(ref: string, path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { createNew: true, write: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    throw new Error(`Cannot move ${ref}: "${path}" exists, another writer holds the ref`);
  }
}

async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function parseOid(ref: string, value: string): string {
  if (!OID.test(value)) {
    throw new Error(`Cannot read ${ref}: "${value.slice(0, 60)}" is not an oid`);
  }
  return value;
}
