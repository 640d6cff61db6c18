/**
 * One process per data directory: an exclusive advisory lock on `<dir>/lock`.
 * The operating system releases it when the process ends, even by kill -9,
 * so no stale lock ever needs cleaning up by hand.
 */
import { writeAll } from "./durable_file.ts";

/** A held data-directory lock. */
export interface DataLock {
  /** The lock file's path. */
  readonly path: string;
  release(): void;
}

/**
 * Takes the lock of `dir` without waiting. Throws when another process (or
 * another store in this process) holds it.
 */
export async function acquireDataLock(dir: string): Promise<DataLock> {
  const path = `${dir}/lock`;
  const file = await Deno.open(path, { create: true, read: true, write: true, mode: 0o600 });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } finally {
    if (!locked) file.close();
  }
  if (!locked) {
    throw new Error(
      `Cannot open data directory "${dir}": another process is using it (lock "${path}" is held)`,
    );
  }
  await recordOwner(file);
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      file.close();
    },
  };
}

async function recordOwner(file: Deno.FsFile): Promise<void> {
  await file.truncate(0);
  await writeAll(file, new TextEncoder().encode(`${Deno.pid}\n`));
}
