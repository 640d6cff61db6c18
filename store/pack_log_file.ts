/**
 * A {@link PackLog} in one local file, kept across restarts. Nothing is
 * flushed to disk: the pack cache checks every record when it reads the
 * log back and drops a torn or damaged tail, so a crash costs recomputation
 * only.
 */
import { checkRange, type PackLog } from "./pack_log.ts";

/** Opens (creating it and its directory when missing) the pack log at `path`. */
export async function openPackLogFile(path: string): Promise<PackLog> {
  const slash = path.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true, mode: 0o700 });
  const writer = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  try {
    const reader = await Deno.open(path, { read: true });
    const size = (await writer.stat()).size;
    return new FilePackLog(path, writer, reader, size);
  } catch (error) {
    writer.close();
    throw error;
  }
}

class FilePackLog implements PackLog {
  #path: string;
  #writer: Deno.FsFile;
  #reader: Deno.FsFile;
  #size: number;
  // Reads seek and then read one handle; one at a time keeps the pairs whole.
  #reads: Promise<unknown> = Promise.resolve();
  #writes: Promise<unknown> = Promise.resolve();

  constructor(path: string, writer: Deno.FsFile, reader: Deno.FsFile, size: number) {
    this.#path = path;
    this.#writer = writer;
    this.#reader = reader;
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  append(bytes: Uint8Array): Promise<void> {
    const offset = this.#size;
    this.#size += bytes.length;
    return this.#serialWrite(async () => {
      await this.#writer.seek(offset, Deno.SeekMode.Start);
      for (let done = 0; done < bytes.length;) {
        done += await this.#writer.write(bytes.subarray(done));
      }
    });
  }

  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    checkRange(offset, length, this.#size);
    const out = into !== undefined && into.length >= length
      ? into.subarray(0, length)
      : new Uint8Array(length);
    const run = this.#reads.then(async () => {
      await this.#writes;
      await this.#reader.seek(offset, Deno.SeekMode.Start);
      for (let done = 0; done < length;) {
        const read = await this.#reader.read(out.subarray(done));
        if (read === null) {
          throw new Error(
            `Cannot read pack log "${this.#path}": it ends before byte ${offset + length}`,
          );
        }
        done += read;
      }
      return out;
    });
    this.#reads = run.catch(() => undefined);
    return run;
  }

  truncate(size: number): Promise<void> {
    checkRange(0, size, this.#size);
    this.#size = size;
    return this.#serialWrite(() => this.#writer.truncate(size));
  }

  async close(): Promise<void> {
    await this.#writes;
    await this.#reads;
    this.#writer.close();
    this.#reader.close();
  }

  #serialWrite(work: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(work);
    this.#writes = run.catch(() => undefined);
    return run;
  }
}

/** Where a data directory keeps its pack log. */
export function packLogPath(dataDir: string): string {
  return `${dataDir}/cache/pack_entries.log`;
}
