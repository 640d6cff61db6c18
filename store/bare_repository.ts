/**
 * The bare history repository's skeleton: created durably on first open, and
 * cleaned of what a killed writer may leave behind.
 */
import { syncDirectory, writeFileDurably } from "./durable_file.ts";
import { TEMPORARY_OBJECT_PREFIX } from "./object_database.ts";
import { removeStaleRefLock } from "./ref_file.ts";

/** The branch every event is appended to. */
export const MAIN_REF = "refs/heads/main";

const CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n";
const DIRECTORIES = ["objects/info", "objects/pack", "refs/heads", "refs/tags", "info"];

/**
 * Creates a bare repository at `gitdir` with HEAD on `refs/heads/main`,
 * unless HEAD exists. HEAD is written last, so a crash mid-way is redone.
 */
export async function ensureBareRepository(gitdir: string): Promise<void> {
  try {
    await Deno.stat(`${gitdir}/HEAD`);
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  for (const directory of DIRECTORIES) {
    await Deno.mkdir(`${gitdir}/${directory}`, { recursive: true });
  }
  for (const directory of ["objects", "refs", "."]) await syncDirectory(`${gitdir}/${directory}`);
  const encoder = new TextEncoder();
  await writeFileDurably(`${gitdir}/config`, encoder.encode(CONFIG));
  await writeFileDurably(`${gitdir}/description`, encoder.encode("Akkoord history\n"));
  await writeFileDurably(`${gitdir}/HEAD`, encoder.encode(`ref: ${MAIN_REF}\n`));
}

/**
 * Removes temporary object files and a stale `refs/heads/main.lock`. Only
 * safe while the caller holds the data-directory lock.
 */
export async function removeCrashLeftovers(gitdir: string): Promise<void> {
  for await (const entry of Deno.readDir(`${gitdir}/objects`)) {
    if (entry.isFile && entry.name.startsWith(TEMPORARY_OBJECT_PREFIX)) {
      await Deno.remove(`${gitdir}/objects/${entry.name}`);
    }
  }
  await removeStaleRefLock(gitdir, MAIN_REF);
}
