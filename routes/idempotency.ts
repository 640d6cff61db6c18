import { createHash } from "node:crypto";
import { statusPath } from "../domain/paths.ts";
import type { AgreementStatus, State } from "../domain/state.ts";
import type { CommitInfo, HistoryStore } from "../store/history.ts";
import type { OfferResult } from "../domain/offer_agreement.ts";

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A remembered offer: the request it answered and the commit it made. */
interface Entry {
  requestSha256: string;
  commit: string;
  at: number;
}

/**
 * Remembers, per supplier, the Idempotency-Keys of offers that made a commit
 * in the last 24 hours. It is derived from the `Idempotency-Key` and
 * `Request-SHA256` trailers of the history: rebuilt on start, kept current
 * by following appended commits.
 */
export class IdempotencyIndex {
  #entries = new Map<string, Entry>();
  #store: HistoryStore<State>;

  private constructor(store: HistoryStore<State>) {
    this.#store = store;
  }

  /** Builds the index from the last day of history and follows new commits. */
  static async open(store: HistoryStore<State>, now: () => Date): Promise<IdempotencyIndex> {
    const index = new IdempotencyIndex(store);
    const since = now().getTime() - IDEMPOTENCY_WINDOW_MS;
    let from = store.head() ?? undefined;
    while (from) {
      const page = await store.log({ from, limit: 100 });
      for (const commit of page) {
        if (commit.author.at.getTime() < since) return index.#follow();
        index.#remember(commit);
      }
      from = page.length === 100 ? page[99]!.parents[0] : undefined;
    }
    return index.#follow();
  }

  #follow(): IdempotencyIndex {
    this.#store.onAppend(async (oid) => {
      const [commit] = await this.#store.log({ from: oid, limit: 1 });
      if (commit) this.#remember(commit);
    });
    return this;
  }

  #remember(commit: CommitInfo): void {
    const key = trailer(commit, "Idempotency-Key");
    const request = trailer(commit, "Request-SHA256");
    const supplier = trailer(commit, "Organisation");
    if (!key || !request || !supplier) return;
    this.#entries.set(`${supplier} ${key}`, {
      requestSha256: request,
      commit: commit.oid,
      at: commit.author.at.getTime(),
    });
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
  ): Promise<{ conflict: true } | { conflict: false; result: OfferResult } | null> {
    const entry = this.#entries.get(`${supplier} ${key}`);
    if (!entry || entry.at < now.getTime() - IDEMPOTENCY_WINDOW_MS) return null;
    if (entry.requestSha256 !== requestSha256) return { conflict: true };
    const [commit] = await this.#store.log({ from: entry.commit, limit: 1 });
    const offered = new Set(
      commit?.trailers.filter(([name]) => name === "Agreement").map(([, v]) => v.split("/")[0]),
    );
    const agreements: OfferResult["agreements"] = [];
    for (const board of new Set(boards)) {
      const bytes = await this.#store.readFile(entry.commit, statusPath(board, supplier));
      const status = bytes ? JSON.parse(new TextDecoder().decode(bytes)) as AgreementStatus : null;
      agreements.push({
        board,
        version: status?.current.version ?? 0,
        outcome: offered.has(board) ? "offered" : "unchanged",
      });
    }
    return {
      conflict: false,
      result: {
        agreements,
        oid: trailer(commit!, "Version-Oid") ?? "",
        contentSha256: trailer(commit!, "Content-SHA256") ?? "",
      },
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
