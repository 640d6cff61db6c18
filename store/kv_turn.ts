/// <reference lib="deno.unstable" />
/**
 * Fair turns between writers of one KV history. Compare-and-swap alone lets
 * a busy writer starve another: the one that just lost must reload before it
 * can try again, and by then the winner has moved the ref once more. A writer
 * that lost twice in a row claims the turn entry; other writers hold back
 * their next commit until it appended (its commit deletes the entry) or the
 * claim expired, at most {@link TURN_MS}.
 */
import { MAIN_REF_KEY } from "./kv_objects.ts";
import { retryWhenLocked } from "./kv_retry.ts";

/** The entry naming the writer whose commit goes next. */
export const TURN_KEY: Deno.KvKey = ["history", "refs", "turn"];

/** How long a claim holds, and the longest a writer waits for one. */
export const TURN_MS = 250;

/** Losses in a row after which a writer claims the turn. */
export const LOSSES_BEFORE_CLAIM = 2;

/** `refs/heads/main` and the turn entry, read together. */
export interface RefAndTurn {
  ref: Deno.KvEntryMaybe<unknown>;
  turn: Deno.KvEntryMaybe<unknown>;
}

interface Claim {
  holder: string;
  until: number;
}

/** Reads the ref and the turn entry in one round trip. */
export async function readRefAndTurn(kv: Deno.Kv): Promise<RefAndTurn> {
  const [ref, turn] = await retryWhenLocked(() => kv.getMany([MAIN_REF_KEY, TURN_KEY]));
  if (ref === undefined || turn === undefined) {
    throw new Error("Cannot read refs/heads/main from Deno KV: the read returned no entry");
  }
  return { ref, turn };
}

/** Whether another writer holds an unexpired claim on the turn. */
export function heldByOther(turn: Deno.KvEntryMaybe<unknown>, holder: string): boolean {
  const claim = asClaim(turn.value);
  return claim !== null && claim.holder !== holder && claim.until > Date.now();
}

/** Whether `holder` holds the turn, so its commit must release it. */
export function heldBy(turn: Deno.KvEntryMaybe<unknown>, holder: string): boolean {
  return asClaim(turn.value)?.holder === holder;
}

/** Claims the turn for `holder` unless another writer holds it; losing that race is fine. */
export async function claimTurn(
  kv: Deno.Kv,
  turn: Deno.KvEntryMaybe<unknown>,
  holder: string,
): Promise<void> {
  if (heldByOther(turn, holder)) return;
  const claim: Claim = { holder, until: Date.now() + TURN_MS };
  await retryWhenLocked(() => kv.atomic().check(turn).set(TURN_KEY, claim).commit());
}

function asClaim(value: unknown): Claim | null {
  if (typeof value !== "object" || value === null) return null;
  const { holder, until } = value as Record<string, unknown>;
  return typeof holder === "string" && typeof until === "number" ? { holder, until } : null;
}
