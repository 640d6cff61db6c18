/// <reference lib="deno.unstable" />
/**
 * Opens the Deno KV history the service runs on: the database at a path
 * (local SQLite) or the deployment's own (`Deno.openKv()` on Deno Deploy),
 * signed with the key from the `AKKOORD_SIGNING_KEY` secret.
 */
import type { HistoryStore, Identity, Projection } from "./history.ts";
import { importOpenSshKey } from "./signing_key.ts";
import { openKvStore } from "./kv_store.ts";

/** Options of {@link openKvHistory}. */
export interface KvHistoryOptions<S> {
  /** The local database file, or null for the deployment's database. */
  path: string | null;
  /**
   * An unencrypted OpenSSH Ed25519 private key, as `ssh-keygen -t ed25519 -N ""`
   * writes it (the disk store's `signing_key` file has the same form). Where a
   * secret cannot hold line breaks, they may be written as `\n`.
   */
  signingKey: string;
  projection: Projection<S>;
  committer: Identity;
}

/** Opens the database and the history in it; closing the store closes the database. */
export async function openKvHistory<S>(options: KvHistoryOptions<S>): Promise<HistoryStore<S>> {
  const text = options.signingKey.replaceAll("\\n", "\n");
  const signingKey = await importOpenSshKey("AKKOORD_SIGNING_KEY", text);
  return await openKvStore({
    kv: await openDatabase(options.path),
    projection: options.projection,
    committer: options.committer,
    signingKey,
    ownsKv: true,
  });
}

/**
 * Opens the KV database at `path` (a local file, whose directory is created
 * with mode 0700 when missing, or a KV Connect URL), or the deployment's own
 * when `path` is null.
 */
export async function openDatabase(path: string | null): Promise<Deno.Kv> {
  const slash = path?.lastIndexOf("/") ?? -1;
  if (path !== null && slash > 0 && !/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    await createMissingDirectory(path.slice(0, slash));
  }
  try {
    return path === null ? await Deno.openKv() : await Deno.openKv(path);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot open the Deno KV database "${path ?? "(deployment)"}": ${why}`);
  }
}

// Only a missing directory is created, so that a service allowed to write
// nothing but the database file and its -wal and -shm files can open it.
async function createMissingDirectory(dir: string): Promise<void> {
  try {
    if ((await Deno.stat(dir)).isDirectory) return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
}
