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

/**
 * Moves `ref` from `expected` (null: the ref must not exist) to `next`.
 * Resolves false, writing nothing, when the ref holds another value.
 */
export async function compareAndSwapRef(
  gitdir: string,
  ref: string,
  expected: string | null,
  next: string,
): Promise<boolean> {
  const path = `${gitdir}/${ref}`;
  const lock = await openLock(ref, `${path}.lock`);
  let renamed = false;
  try {
    if ((await readRef(gitdir, ref)) !== expected) return false;
    await writeAll(lock, new TextEncoder().encode(`${parseOid(ref, next)}\n`));
    await lock.sync();
    lock.close();
    await Deno.rename(`${path}.lock`, path);
    renamed = true;
  } finally {
    if (!renamed) {
      closeQuietly(lock);
      await Deno.remove(`${path}.lock`);
    }
  }
  await syncDirectory(dirname(path));
  return true;
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

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
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
