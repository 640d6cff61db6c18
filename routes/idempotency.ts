import { createHash } from "node:crypto";
import { statusPath } from "../domain/paths.ts";
import type { AgreementStatus, State } from "../domain/state.ts";
import type { CommitInfo, HistoryStore } from "../store/history.ts";
import type { OfferResult } from "../domain/offer_agreement.ts";

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * A remembered offer: the request it answered, and the commit it made or,
 * when it changed nothing, the answer it gave.
 */
type Entry = IdempotencyAnswer;

/**
 * Answers to keyed offers shared by every instance of the service (Deno KV,
 * store/kv_idempotency_keys.ts), beside the index each instance builds from
 * the history.
 */
export interface SharedIdempotencyKeys {
  /** The answer first recorded for the key within the window, or null. */
  find(supplier: string, key: string, now: number): Promise<IdempotencyAnswer | null>;
  /** Records an answer unless the key answered another request within the window. */
  remember(supplier: string, key: string, answer: IdempotencyAnswer): Promise<void>;
  /** Runs `task` while no other instance runs one for the same supplier and key. */
  exclusive<T>(supplier: string, key: string, task: () => Promise<T>): Promise<T>;
}

/** An answer as {@link SharedIdempotencyKeys} keeps it; `at` in epoch ms. */
export interface IdempotencyAnswer {
  requestSha256: string;
  at: number;
  commit?: string;
  result?: OfferResult;
}

/** What {@link IdempotencyIndex.replay} finds for a key. */
export type Replay = { conflict: true } | { conflict: false; result: OfferResult } | null;

const SWEEP_EVERY = 1000;

/**
 * Remembers, per supplier, the Idempotency-Keys of offers in the last 24
 * hours. Keys of offers that made a commit are derived from the
 * `Idempotency-Key` and `Request-SHA256` trailers of the history: rebuilt on
 * start, kept current by following appended commits. Keys of offers that
 * changed nothing are kept in memory only; a restart forgets them, which is
 * harmless because those offers wrote nothing. With `shared` keys (Deno KV)
 * every answer is also kept there, so that every instance, and a restarted
 * one, finds it, and a key is used by one instance at a time.
 */
export class IdempotencyIndex {
  #entries = new Map<string, Entry>();
  #running = new Map<string, Promise<unknown>>();
  #writes = new Map<string, Promise<void>>();
  #recorded = 0;
  #store: HistoryStore<State>;
  #shared: SharedIdempotencyKeys | undefined;

  private constructor(store: HistoryStore<State>, shared: SharedIdempotencyKeys | undefined) {
    this.#store = store;
    this.#shared = shared;
  }

  /** Builds the index from the last day of history and follows new commits. */
  static async open(
    store: HistoryStore<State>,
    now: () => Date,
    shared?: SharedIdempotencyKeys,
  ): Promise<IdempotencyIndex> {
    const index = new IdempotencyIndex(store, shared);
    const since = now().getTime() - IDEMPOTENCY_WINDOW_MS;
    let from = store.head() ?? undefined;
    while (from) {
      const page = await store.log({ from, limit: 100 });
      for (const commit of page) {
        if (commit.author.at.getTime() < since) return index.#follow();
        // Newest first: an older commit with the same key replaces the entry,
        // so the first use of a key within the window is the one remembered.
        index.#remember(commit, "replace");
      }
      from = page.length === 100 ? page[99]!.parents[0] : undefined;
    }
    return index.#follow();
  }

  #follow(): IdempotencyIndex {
    this.#store.onAppend(async (oid) => {
      const [commit] = await this.#store.log({ from: oid, limit: 1 });
      if (commit) this.#remember(commit, "keep");
    });
    return this;
  }

  #remember(commit: CommitInfo, existing: "replace" | "keep"): void {
    const key = trailer(commit, "Idempotency-Key");
    const request = trailer(commit, "Request-SHA256");
    const supplier = trailer(commit, "Organisation");
    if (!key || !request || !supplier) return;
    const at = commit.author.at.getTime();
    if (existing === "keep" && this.#live(`${supplier} ${key}`, at)) return;
    this.#entries.set(`${supplier} ${key}`, { requestSha256: request, commit: commit.oid, at });
  }

  #live(id: string, now: number): Entry | undefined {
    const entry = this.#entries.get(id);
    return entry && entry.at >= now - IDEMPOTENCY_WINDOW_MS ? entry : undefined;
  }

  /**
   * Runs `task` once every earlier task for the same supplier and key has
   * finished, so that looking a key up and committing under it cannot
   * interleave with another request using that key. Serialising in memory
   * is sound because one process owns the data directory (store/data_lock.ts);
   * with shared keys the task also holds the key across instances, until
   * the answer it recorded is stored.
   */
  async exclusive<T>(supplier: string, key: string, task: () => Promise<T>): Promise<T> {
    const id = `${supplier} ${key}`;
    const before = this.#running.get(id) ?? Promise.resolve();
    const shared = this.#shared;
    const held = shared === undefined ? task : () =>
      shared.exclusive(supplier, key, async () => {
        const result = await task();
        await this.#writes.get(id);
        return result;
      });
    const run = before.then(held);
    const tail = run.catch(() => undefined);
    this.#running.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.#running.get(id) === tail) this.#running.delete(id);
    }
  }

  /**
   * Remembers the answer to an offer made with a key, unless the key already
   * answered a request within the window: the first use of a key wins. An
   * offer without a commit (`commit` null) is remembered in memory only.
   */
  record(
    supplier: string,
    key: string,
    answer: { requestSha256: string; commit: string | null; result: OfferResult; at: Date },
  ): void {
    const id = `${supplier} ${key}`;
    const at = answer.at.getTime();
    if (this.#live(id, at)) return;
    const entry: Entry = {
      requestSha256: answer.requestSha256,
      at,
      ...(answer.commit === null ? { result: answer.result } : { commit: answer.commit }),
    };
    this.#entries.set(id, entry);
    if (this.#shared) this.#share(id, this.#shared.remember(supplier, key, entry));
    if (++this.#recorded % SWEEP_EVERY === 0) this.#sweep(at);
  }

  // The write is awaited by the exclusive run that recorded it; its error fails that request.
  #share(id: string, write: Promise<void>): void {
    this.#writes.set(id, write);
    void write.catch(() => undefined).finally(() => {
      if (this.#writes.get(id) === write) this.#writes.delete(id);
    });
  }

  #sweep(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.at < now - IDEMPOTENCY_WINDOW_MS) this.#entries.delete(id);
    }
  }

  /**
   * The earlier answer to this key, or null when the key is new (or older
   * than the window). A key reused for another request is reported as such.
   */
  async replay(
    supplier: string,
    key: string,
    requestSha256: string,
    boards: string[],
    now: Date,
  ): Promise<Replay> {
    const entry = this.#live(`${supplier} ${key}`, now.getTime()) ??
      await this.#shared?.find(supplier, key, now.getTime());
    if (!entry) return null;
    if (entry.requestSha256 !== requestSha256) return { conflict: true };
    if (entry.result) return { conflict: false, result: entry.result };
    return { conflict: false, result: await this.#committed(entry.commit!, supplier, boards) };
  }

  async #committed(oid: string, supplier: string, boards: string[]): Promise<OfferResult> {
    const [commit] = await this.#store.log({ from: oid, limit: 1 });
    const offered = new Set(
      commit?.trailers.filter(([name]) => name === "Agreement").map(([, v]) => v.split("/")[0]),
    );
    const agreements: OfferResult["agreements"] = [];
    for (const board of new Set(boards)) {
      const bytes = await this.#store.readFile(oid, statusPath(board, supplier));
      const status = bytes ? JSON.parse(new TextDecoder().decode(bytes)) as AgreementStatus : null;
      agreements.push({
        board,
        version: status?.current.version ?? 0,
        outcome: offered.has(board) ? "offered" : "unchanged",
      });
    }
    return {
      agreements,
      oid: trailer(commit!, "Version-Oid") ?? "",
      contentSha256: trailer(commit!, "Content-SHA256") ?? "",
    };
  }
}

/** The fingerprint of an offer request: what a retry must repeat exactly. */
export function requestSha256(body: unknown): string {
  return createHash("sha256").update(JSON.stringify(body)).digest("hex");
}

function trailer(commit: CommitInfo, name: string): string | undefined {
  return commit.trailers.find(([key]) => key === name)?.[1];
}
