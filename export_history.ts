/**
 * Writes the Deno KV history into a bare repository on disk:
 * `deno task export <dir> [--kv <path>]`.
 *
 * Every object keeps its oid, so the result is the same history an auditor
 * clones: `git fsck --strict` is clean and `git verify-commit` checks each
 * commit against keys/allowed_signers. The KV database is `--kv`, else
 * AKKOORD_KV_PATH, else `<AKKOORD_DATA_DIR or ./data>/history.kv`. `<dir>` must
 * not hold a `refs/heads/main` yet.
 */
import { openDatabase } from "./store/kv_open.ts";
import { exportKvHistory } from "./store/kv_transfer.ts";
import { kvPathOf, type TransferArgs, transferArgs, write } from "./import_history.ts";

/** Exports the KV history named by `args` and the environment; resolves the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed: TransferArgs | null = transferArgs(args);
  if (parsed === null) {
    write(Deno.stderr, "Usage: deno task export <dir> [--kv <path>]\n");
    return 2;
  }
  const path = kvPathOf(parsed);
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) await assertExists(path);
    const kv = await openDatabase(path);
    try {
      const { head, objects } = await exportKvHistory(kv, parsed.dir);
      write(
        Deno.stdout,
        head === null
          ? `The Deno KV history "${path}" is empty; "${parsed.dir}" is an empty repository.\n`
          : `Exported ${objects} objects of "${path}" to "${parsed.dir}" (head ${head}).\n`,
      );
      return 0;
    } finally {
      kv.close();
    }
  } catch (error) {
    write(Deno.stderr, `${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function assertExists(path: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(`Cannot export: the Deno KV database "${path}" does not exist`);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
