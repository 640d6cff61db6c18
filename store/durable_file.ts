/**
 * Writes that survive a crash: content is flushed before it is renamed into
 * place, and the directory is flushed after the rename.
 */
import { basename, dirname } from "node:path";

/** Writes every byte of `bytes` to an open file. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/** Flushes a directory, making renames and new entries in it durable. */
export async function syncDirectory(path: string): Promise<void> {
  const directory = await Deno.open(path, { read: true });
  try {
    await directory.sync();
  } finally {
    directory.close();
  }
}

/**
 * Replaces `path` atomically: a new temporary file beside it is written and
 * flushed, renamed over `path`, and the directory is flushed.
 */
export async function writeFileDurably(
  path: string,
  bytes: Uint8Array,
  mode = 0o644,
): Promise<void> {
  const temporary = `${dirname(path)}/.${basename(path)}.tmp-${crypto.randomUUID()}`;
  await writeNewFile(temporary, bytes, mode);
  try {
    await Deno.chmod(temporary, mode);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Creates `path` (it must not exist), writes `bytes` and flushes them. */
export async function writeNewFile(path: string, bytes: Uint8Array, mode = 0o644): Promise<void> {
  const file = await Deno.open(path, { createNew: true, write: true, mode });
  try {
    await writeAll(file, bytes);
    await file.sync();
  } finally {
    file.close();
  }
}
