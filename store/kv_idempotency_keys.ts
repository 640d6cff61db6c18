/// <reference lib="deno.unstable" />
/**
 * Idempotency keys of supplier offers on Deno KV, shared by every instance:
 * the first answer to a key, `["akkoord", "idempotency", <supplier>, <key>]`,
 * kept for the replay window (expiring with it), and a short lease,
 * `["akkoord", "idempotency_leases", <supplier>, <key>]`, held while one
 * instance looks a key up and commits under it.
 */
import { retryWhenLocked } from "./kv_retry.ts";

/** An answer kept for a key; `at` in epoch ms, `result` as the caller gave it. */
export interface KvIdempotencyAnswer<R> {
  requestSha256: string;
  at: number;
  commit?: string;
  result?: R;
}

/** How long a lease holds when its holder does not release it (a crash). */
export const IDEMPOTENCY_LEASE_MS = 30_000;
const POLL_MS = 5;

interface Lease {
  holder: string;
  until: number;
}

/** The idempotency keys kept in `kv`, remembered for `windowMs`. */
export function kvIdempotencyKeys<R>(kv: Deno.Kv, windowMs: number): {
  find(supplier: string, key: string, now: number): Promise<KvIdempotencyAnswer<R> | null>;
  remember(supplier: string, key: string, answer: KvIdempotencyAnswer<R>): Promise<void>;
  exclusive<T>(supplier: string, key: string, task: () => Promise<T>): Promise<T>;
} {
  const answerKey = (supplier: string, key: string) => ["akkoord", "idempotency", supplier, key];
  const leaseKey = (supplier: string, key: string) => [
    "akkoord",
    "idempotency_leases",
    supplier,
    key,
  ];

  async function find(
    supplier: string,
    key: string,
    now: number,
  ): Promise<KvIdempotencyAnswer<R> | null> {
    const entry = await retryWhenLocked(() =>
      kv.get<KvIdempotencyAnswer<R>>(answerKey(supplier, key))
    );
    return entry.value !== null && entry.value.at >= now - windowMs ? entry.value : null;
  }

  async function remember(
    supplier: string,
    key: string,
    answer: KvIdempotencyAnswer<R>,
  ): Promise<void> {
    const id = answerKey(supplier, key);
    for (;;) {
      const entry = await retryWhenLocked(() => kv.get<KvIdempotencyAnswer<R>>(id));
      if (entry.value !== null && entry.value.at >= answer.at - windowMs) return;
      const expireIn = Math.max(1, answer.at + windowMs - Date.now());
      const result = await retryWhenLocked(() =>
        kv.atomic().check(entry).set(id, answer, { expireIn }).commit()
      ).catch((error) => {
        throw new Error(
          `Cannot keep Idempotency-Key "${key}" in Deno KV: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      });
      if (result.ok) return;
    }
  }

  async function exclusive<T>(supplier: string, key: string, task: () => Promise<T>): Promise<T> {
    const id = leaseKey(supplier, key);
    const holder = crypto.randomUUID();
    const held = await acquire(kv, id, holder);
    try {
      return await task();
    } finally {
      await release(kv, id, held);
    }
  }

  return { find, remember, exclusive };
}

async function acquire(kv: Deno.Kv, id: Deno.KvKey, holder: string): Promise<Deno.KvEntry<Lease>> {
  for (;;) {
    const entry = await retryWhenLocked(() => kv.get<Lease>(id));
    if (entry.value !== null && entry.value.until > Date.now()) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * (0.5 + Math.random())));
      continue;
    }
    const lease: Lease = { holder, until: Date.now() + IDEMPOTENCY_LEASE_MS };
    const result = await retryWhenLocked(() =>
      kv.atomic().check(entry).set(id, lease, { expireIn: IDEMPOTENCY_LEASE_MS }).commit()
    );
    if (result.ok) return { key: id, value: lease, versionstamp: result.versionstamp };
  }
}

// A lease that cannot be released ends by itself after IDEMPOTENCY_LEASE_MS.
async function release(kv: Deno.Kv, id: Deno.KvKey, held: Deno.KvEntry<Lease>): Promise<void> {
  await retryWhenLocked(() => kv.atomic().check(held).delete(id).commit()).catch(() => undefined);
}
