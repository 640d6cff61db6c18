/**
 * Loads a history repository from disk into Deno KV:
 * `deno task import <dir> [--kv <path>]`.
 *
 * `<dir>` is a bare repository or a data directory holding `history.git`.
 * Every object reachable from its `refs/heads/main` is copied with its oid,
 * the KV ref moved last. The KV database must be empty or hold an earlier
 * state of the same history (as after a key rotation on an exported copy);
 * another history is refused. The KV database is `--kv`, else AKKOORD_KV_PATH, else
 * `<AKKOORD_DATA_DIR or ./data>/history.kv`. The signing key is not copied:
 * give the service the data directory's `signing_key` as AKKOORD_SIGNING_KEY.
 */
import { openDatabase } from "./store/kv_open.ts";
import { importKvHistory } from "./store/kv_transfer.ts";

/** The arguments of the export and import tools. */
export interface TransferArgs {
  dir: string;
  kv: string | null;
}

const encoder = new TextEncoder();

/** Imports the repository named by `args`; resolves the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = transferArgs(args);
  if (parsed === null) {
    write(Deno.stderr, "Usage: deno task import <dir> [--kv <path>]\n");
    return 2;
  }
  const path = kvPathOf(parsed);
  try {
    const gitdir = await repositoryIn(parsed.dir);
    const kv = await openDatabase(path);
    try {
      const { head, objects } = await importKvHistory(kv, gitdir);
      write(
        Deno.stdout,
        objects === 0
          ? `"${path}" already holds this history (head ${head}); nothing imported.\n`
          : `Imported ${objects} objects of "${gitdir}" into "${path}" (head ${head}).\n`,
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

/** `<dir> [--kv <path>]`, or null when the arguments are not that. */
export function transferArgs(args: string[]): TransferArgs | null {
  const flag = args.indexOf("--kv");
  const kv = flag >= 0 ? args[flag + 1] ?? null : null;
  const rest = flag >= 0 ? [...args.slice(0, flag), ...args.slice(flag + 2)] : args;
  const [dir] = rest;
  if (rest.length !== 1 || dir === undefined || (flag >= 0 && kv === null)) return null;
  return { dir, kv };
}

/** The KV database file: `--kv`, else AKKOORD_KV_PATH, else `<data dir>/history.kv`. */
export function kvPathOf(args: TransferArgs): string {
  const dataDir = Deno.env.get("AKKOORD_DATA_DIR") || "./data";
  return args.kv ?? (Deno.env.get("AKKOORD_KV_PATH") || `${dataDir}/history.kv`);
}

/** Writes text to stdout or stderr. */
export function write(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  stream.writeSync(encoder.encode(text));
}

async function repositoryIn(dir: string): Promise<string> {
  try {
    await Deno.stat(`${dir}/history.git/HEAD`);
    return `${dir}/history.git`;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return dir;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
