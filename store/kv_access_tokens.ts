/// <reference lib="deno.unstable" />
/**
 * Personal access tokens on Deno KV: `["akkoord", "access_tokens", <id>]`
 * holds a token (only the SHA-256 of its secret) and
 * `["akkoord", "access_token_hashes", <hash>]` its id, both written and
 * deleted in one atomic operation and expiring when the token stops being
 * listed. Verifying reads KV, so a token revoked by one instance is refused
 * by every other at once. The sync list of an owner's tokens comes from a
 * copy in memory, kept current by this instance's writes and reloaded in the
 * background when older than {@link LIST_REFRESH_MS}.
 */
import {
  type AccessToken,
  type AccessTokenOwner,
  type AccessTokens,
  equalHashes,
  EXPIRED_KEPT_MS,
  isTokenSecret,
  type NewAccessToken,
  newAccessToken,
  ownedBy,
  sha256Hex,
  USE_RECORD_INTERVAL_MS,
} from "./access_tokens.ts";
import { retryWhenLocked } from "./kv_retry.ts";

/** How stale the in-memory list may get before a read reloads it. */
export const LIST_REFRESH_MS = 5_000;

const PREFIX: Deno.KvKey = ["akkoord", "access_tokens"];

function tokenKey(id: string): Deno.KvKey {
  return [...PREFIX, id];
}

function hashKey(hash: string): Deno.KvKey {
  return ["akkoord", "access_token_hashes", hash];
}

/** Settings of {@link openKvAccessTokens}. */
export interface KvAccessTokensOptions {
  kv: Deno.Kv;
  now?: () => Date;
}

/** The access tokens kept in `kv`; `close` waits for a reload under way. */
export async function openKvAccessTokens(
  options: KvAccessTokensOptions,
): Promise<AccessTokens & { close(): Promise<void> }> {
  const { kv } = options;
  const now = options.now ?? (() => new Date());
  let listed = await loadAll(kv);
  let loadedAt = Date.now();
  let reloading: Promise<void> | null = null;

  function keptFor(token: AccessToken): number {
    return Math.max(1, Date.parse(token.expiresAt) + EXPIRED_KEPT_MS - now().getTime());
  }

  async function createToken(
    input: NewAccessToken,
  ): Promise<{ token: AccessToken; secret: string }> {
    const { token, secret } = await newAccessToken(input, now());
    const expireIn = keptFor(token);
    await retryWhenLocked(() =>
      kv.atomic()
        .check({ key: hashKey(token.hash), versionstamp: null })
        .set(tokenKey(token.id), token, { expireIn })
        .set(hashKey(token.hash), token.id, { expireIn })
        .commit()
    ).then((result) => {
      if (!result.ok) throw new Error("the secret's hash is in use");
    }).catch((error) => {
      throw new Error(`Cannot store an access token in Deno KV: ${messageOf(error)}`);
    });
    listed.set(token.id, token);
    return { token: { ...token }, secret };
  }

  async function verify(secret: string): Promise<AccessToken | null> {
    if (!isTokenSecret(secret)) return null;
    const hash = await sha256Hex(secret);
    const id = await retryWhenLocked(() => kv.get<string>(hashKey(hash)));
    if (id.value === null) return null;
    const token = (await retryWhenLocked(() => kv.get<AccessToken>(tokenKey(id.value!)))).value;
    if (token === null || !equalHashes(token.hash, hash)) return null;
    if (Date.parse(token.expiresAt) <= now().getTime()) return null;
    return { ...token };
  }

  async function recordUse(id: string): Promise<void> {
    const entry = await retryWhenLocked(() => kv.get<AccessToken>(tokenKey(id)));
    if (entry.value === null) return;
    const at = now();
    const last = entry.value.lastUsedAt === undefined
      ? -Infinity
      : Date.parse(entry.value.lastUsedAt);
    if (at.getTime() - last < USE_RECORD_INTERVAL_MS) return;
    const used = { ...entry.value, lastUsedAt: at.toISOString() };
    // Checked, so that a token revoked meanwhile is not written back.
    const result = await retryWhenLocked(() =>
      kv.atomic().check(entry).set(tokenKey(id), used, { expireIn: keptFor(used) }).commit()
    );
    if (result.ok) listed.set(id, used);
  }

  async function revoke(id: string, owner: AccessTokenOwner): Promise<boolean> {
    const entry = await retryWhenLocked(() => kv.get<AccessToken>(tokenKey(id)));
    if (entry.value === null || !ownedBy(entry.value, owner)) return false;
    const token = entry.value;
    await retryWhenLocked(() =>
      kv.atomic().delete(tokenKey(id)).delete(hashKey(token.hash)).commit()
    ).catch((error) => {
      throw new Error(`Cannot revoke access token "${id}" in Deno KV: ${messageOf(error)}`);
    });
    listed.delete(id);
    return true;
  }

  function list(owner: AccessTokenOwner): AccessToken[] {
    if (Date.now() - loadedAt >= LIST_REFRESH_MS && reloading === null) {
      reloading = loadAll(kv)
        .then((tokens) => {
          listed = tokens;
          loadedAt = Date.now();
        })
        .catch(() => undefined)
        .finally(() => reloading = null);
    }
    const at = now().getTime();
    return [...listed.values()]
      .filter((token) => ownedBy(token, owner))
      .filter((token) => Date.parse(token.expiresAt) + EXPIRED_KEPT_MS >= at)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map((token) => ({ ...token }));
  }

  async function close(): Promise<void> {
    await reloading;
  }

  return { createToken, verify, recordUse, revoke, list, close };
}

async function loadAll(kv: Deno.Kv): Promise<Map<string, AccessToken>> {
  const tokens = new Map<string, AccessToken>();
  for await (const entry of kv.list<AccessToken>({ prefix: PREFIX })) {
    tokens.set(entry.value.id, entry.value);
  }
  return tokens;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
