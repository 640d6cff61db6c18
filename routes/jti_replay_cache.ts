/**
 * Remembers the `jti` of every client assertion accepted until the assertion
 * expires, so that a captured assertion cannot be used twice (RFC 7523 §3,
 * item 7). The cache here is operational state in memory: a restart forgets
 * it, which is safe because assertions live five minutes at most. With
 * Deno KV, kv_jti_replay_cache.ts keeps it in the database, so that it also
 * holds across instances.
 */

/** What {@link JtiReplayCache.remember} found. */
export type JtiOutcome = "fresh" | "replayed" | "full";

/** A bounded set of seen assertion ids, each kept until its assertion expires. */
export interface JtiReplayCache {
  /**
   * Records `id` until `expiresAt` (epoch ms). "replayed" when it was recorded
   * before and has not expired; "full" when the cache holds `maxEntries`
   * unexpired ids, in which case nothing is recorded and the caller must refuse.
   */
  remember(id: string, expiresAt: number, now: number): JtiOutcome | Promise<JtiOutcome>;
}

/** The most ids held at once unless configured. */
export const DEFAULT_MAX_JTI_ENTRIES = 100_000;

/**
 * Creates an empty cache. When it is full it refuses rather than forgets:
 * forgetting an unexpired id would let that assertion be replayed.
 */
export function createJtiReplayCache(
  maxEntries = DEFAULT_MAX_JTI_ENTRIES,
): JtiReplayCache & {
  remember(id: string, expiresAt: number, now: number): JtiOutcome;
  size(): number;
} {
  const seen = new Map<string, number>();

  function remember(id: string, expiresAt: number, now: number): JtiOutcome {
    const known = seen.get(id);
    if (known !== undefined && known > now) return "replayed";
    dropExpiredFromFront(now);
    if (seen.size >= maxEntries) dropAllExpired(now);
    if (seen.size >= maxEntries) return "full";
    seen.delete(id);
    seen.set(id, expiresAt);
    return "fresh";
  }

  // Ids arrive roughly in expiry order, so the oldest entries are usually the expired ones.
  function dropExpiredFromFront(now: number): void {
    for (const [id, expiresAt] of seen) {
      if (expiresAt > now) return;
      seen.delete(id);
    }
  }

  function dropAllExpired(now: number): void {
    for (const [id, expiresAt] of seen) {
      if (expiresAt <= now) seen.delete(id);
    }
  }

  /** How many ids are held. */
  const size = () => seen.size;
  return { remember, size };
}
