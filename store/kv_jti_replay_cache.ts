/// <reference lib="deno.unstable" />
/**
 * The seen client-assertion ids (`jti`) on Deno KV, so that an assertion
 * accepted by one instance is refused by every other. Each id is one entry
 * under `["akkoord", "jti", <id>]` holding its expiry and expiring with it;
 * recording is a check-and-set on the entry as read, so of two instances
 * racing with one assertion exactly one sees it fresh.
 */
import { retryWhenLocked } from "./kv_retry.ts";

/** Whether an id was new ("fresh") or recorded before and unexpired ("replayed"). */
export type KvJtiOutcome = "fresh" | "replayed";

/** Remembers assertion ids in `kv` until they expire; it never fills up. */
export function createKvJtiReplayCache(kv: Deno.Kv): {
  remember(id: string, expiresAt: number, now: number): Promise<KvJtiOutcome>;
} {
  async function remember(id: string, expiresAt: number, now: number): Promise<KvJtiOutcome> {
    const key = ["akkoord", "jti", id];
    for (;;) {
      const entry = await retryWhenLocked(() => kv.get<number>(key));
      // Local KV may still return an entry past its expireIn; its value decides.
      if (typeof entry.value === "number" && entry.value > now) return "replayed";
      const result = await retryWhenLocked(() =>
        kv.atomic().check(entry)
          .set(key, expiresAt, { expireIn: Math.max(1, expiresAt - now) })
          .commit()
      );
      if (result.ok) return "fresh";
    }
  }
  return { remember };
}
