import { createHash } from "node:crypto";
import { writeFileDurably } from "./durable_file.ts";
import type { CommitInfo, HistoryStore } from "./history.ts";

const encoder = new TextEncoder();

/** A mail as the outbox keeps it; the shape fits a mail API's send call. */
export interface OutboxMail {
  idempotencyKey: string;
  commit: string;
  to: string;
  subject: string;
  text: string;
  createdAt: string;
}

/** Options of {@link openOutbox}. */
export interface OutboxOptions<S> {
  /** The folder of the outbox; created when missing. */
  dir: string;
  store: HistoryStore<S>;
  /** The mails one commit causes, composed against the current state. */
  compose: (commit: CommitInfo, state: S) => Array<Omit<OutboxMail, "createdAt">>;
  now?: () => Date;
}

export interface Outbox {
  /** Processes every commit after the cursor; safe to call at any time. */
  catchUp(): Promise<void>;
  /** The mails in the outbox, newest first. */
  list(): Promise<OutboxMail[]>;
}

/**
 * A mail outbox derived from the history by a cursor: it remembers the last
 * commit it processed and, after a restart, catches up from there. Each mail
 * is one file named by its (commit, recipient) pair, written before the
 * cursor moves, so a crash in between neither loses nor doubles a mail.
 */
export async function openOutbox<S>(options: OutboxOptions<S>): Promise<Outbox> {
  const { dir, store } = options;
  const now = options.now ?? (() => new Date());
  await Deno.mkdir(dir, { recursive: true });
  const cursorFile = `${dir}/cursor`;
  let running: Promise<void> = Promise.resolve();

  async function processPending(): Promise<void> {
    const head = store.head();
    if (head === null) return;
    const cursor = await readCursor(cursorFile);
    if (cursor === head) return;
    const pending = await commitsAfter(store, head, cursor);
    for (const commit of pending) {
      for (const mail of options.compose(commit, store.state)) {
        const file = `${dir}/${commit.oid}-${digest(mail.to)}.json`;
        if (await exists(file)) continue;
        const stored: OutboxMail = { ...mail, createdAt: now().toISOString() };
        await writeFileDurably(file, encoder.encode(JSON.stringify(stored, null, 2)));
      }
      await writeFileDurably(cursorFile, encoder.encode(`${commit.oid}\n`));
    }
  }

  const outbox: Outbox = {
    catchUp() {
      running = running.then(processPending, processPending);
      return running;
    },
    async list() {
      const mails: OutboxMail[] = [];
      for await (const entry of Deno.readDir(dir)) {
        if (!entry.isFile || !entry.name.endsWith(".json")) continue;
        mails.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)));
      }
      return mails.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
  };
  store.onAppend(() => void outbox.catchUp());
  await outbox.catchUp();
  return outbox;
}

async function commitsAfter<S>(
  store: HistoryStore<S>,
  head: string,
  cursor: string | null,
): Promise<CommitInfo[]> {
  const newestFirst: CommitInfo[] = [];
  let from: string | undefined = head;
  while (from) {
    const page = await store.log({ from, limit: 200 });
    for (const commit of page) {
      if (commit.oid === cursor) return newestFirst.reverse();
      newestFirst.push(commit);
    }
    from = page.length === 200 ? page[199]!.parents[0] : undefined;
  }
  return newestFirst.reverse();
}

async function readCursor(file: string): Promise<string | null> {
  try {
    return (await Deno.readTextFile(file)).trim() || null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await Deno.stat(file);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
