import { type CompactJWSHeaderParameters, createLocalJWKSet, type JWTVerifyGetKey } from "jose";

/** Settings of a cached, remotely published key set. */
export interface JwksCacheOptions {
  /** Where the broker publishes its keys. */
  url: URL;
  /** How long fetched keys are used before they are fetched again. */
  maxAgeSeconds?: number;
  /**
   * The shortest time between two fetches, whatever the cause: an unknown
   * `kid`, stale keys or a failed fetch. Bounds what a flood of forged tokens
   * can make us send to the broker.
   */
  cooldownSeconds?: number;
  /** How long one fetch may take. */
  timeoutMs?: number;
  /** The clock in milliseconds, for tests. */
  now?: () => number;
}

/** The defaults of a key set cache. */
export const JWKS_CACHE_DEFAULTS = {
  maxAgeSeconds: 600,
  cooldownSeconds: 60,
  timeoutMs: 5_000,
} as const;

const MAX_JWKS_BYTES = 256 * 1024;

/** A key set could not be fetched or read; the verifier reports it as keys_unavailable. */
export class JwksUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JwksUnavailableError";
  }
}

/**
 * Creates a key resolver for jose's `jwtVerify` that selects a key by the
 * token's `kid` and `alg` only. Any other header naming a key (`jku`, `x5u`,
 * `jwk`, `x5c`) is never read, so a token cannot bring its own key. Keys are
 * fetched on first use, again after `maxAgeSeconds`, and again when a token
 * names an unknown `kid`, but never twice within `cooldownSeconds`.
 * Concurrent callers share one fetch. Two keys that both fit a token (same
 * `kid` and key type) are refused as ambiguous rather than tried in turn.
 */
export function createJwksCache(options: JwksCacheOptions): JWTVerifyGetKey {
  const maxAge = (options.maxAgeSeconds ?? JWKS_CACHE_DEFAULTS.maxAgeSeconds) * 1000;
  const cooldown = (options.cooldownSeconds ?? JWKS_CACHE_DEFAULTS.cooldownSeconds) * 1000;
  const timeoutMs = options.timeoutMs ?? JWKS_CACHE_DEFAULTS.timeoutMs;
  const now = options.now ?? Date.now;
  let local: JWTVerifyGetKey | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;

  function mayFetch(): boolean {
    return now() - attemptedAt >= cooldown;
  }

  async function refresh(): Promise<void> {
    if (pending === undefined) {
      attemptedAt = now();
      pending = fetchKeySet(options.url, timeoutMs).then((keySet) => {
        local = keySet;
        fetchedAt = now();
      }).finally(() => {
        pending = undefined;
      });
    }
    await pending;
  }

  async function current(): Promise<JWTVerifyGetKey> {
    if (pending !== undefined) await pending;
    const stale = local === undefined || now() - fetchedAt >= maxAge;
    if (stale && mayFetch()) await refresh();
    if (local === undefined || now() - fetchedAt >= maxAge) {
      const wait = Math.max(0, Math.ceil((attemptedAt + cooldown - now()) / 1000));
      throw new JwksUnavailableError(
        `Cannot verify the token: the last fetch of ${options.url.href} failed; ` +
          `the next attempt is allowed in ${wait} s`,
      );
    }
    return local;
  }

  return async (header: CompactJWSHeaderParameters, token) => {
    const keys = await current();
    try {
      return await keys(header, token);
    } catch (error) {
      if (!isNoMatchingKey(error) || !mayFetch()) throw error;
      await refresh();
      return await (await current())(header, token);
    }
  };
}

async function fetchKeySet(url: URL, timeoutMs: number): Promise<JWTVerifyGetKey> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/jwk-set+json, application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new JwksUnavailableError(`Cannot fetch the key set ${url.href}: ${errorText(error)}`, {
      cause: error,
    });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new JwksUnavailableError(`Cannot fetch the key set ${url.href}: HTTP ${response.status}`);
  }
  const text = await response.text();
  if (text.length > MAX_JWKS_BYTES) {
    throw new JwksUnavailableError(
      `Cannot read the key set ${url.href}: it is larger than ${MAX_JWKS_BYTES} bytes`,
    );
  }
  try {
    return createLocalJWKSet(JSON.parse(text));
  } catch (error) {
    throw new JwksUnavailableError(
      `Cannot read the key set ${url.href}: it is not a JSON Web Key Set`,
      { cause: error },
    );
  }
}

function isNoMatchingKey(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ERR_JWKS_NO_MATCHING_KEY";
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
