/**
 * The short-lived access tokens the token endpoint gives a supplier's
 * software for a verified client assertion. They are opaque random strings,
 * kept in memory only as SHA-256 hashes; each names the key it was issued
 * for, and every use checks that key is still registered and unrevoked, so a
 * revocation ends its tokens at once. A restart ends them all; clients then
 * get a new one with a new assertion.
 */
import type { Principal } from "../domain/actor.ts";
import { apiKeyPrincipal } from "../domain/api_keys.ts";
import { apiKeyKey } from "../domain/ids.ts";
import type { ApiKey, State } from "../domain/state.ts";
import { sha256Hex } from "../store/access_tokens.ts";
import { base64url } from "./session.ts";
import { AuthError } from "./token_verifier.ts";

/** The prefix of every API access token, which tells it from a broker's JWT. */
export const API_ACCESS_TOKEN_PREFIX = "akc_";
/** How long an access token works, in seconds. */
export const API_ACCESS_TOKEN_SECONDS = 300;
/** The most tokens held at once unless configured. */
export const DEFAULT_MAX_API_ACCESS_TOKENS = 50_000;

const TOKEN_PATTERN = /^akc_[A-Za-z0-9_-]{43}$/;

/** An issued access token, as the token endpoint returns it. */
export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
}

/** The access tokens of the supplier API's client-credentials flow. */
export interface ApiAccessTokens {
  /** Issues a token bound to the key's supplier and thumbprint. */
  issue(key: ApiKey): Promise<IssuedAccessToken>;
  /** The supplier principal of a token; throws an {@link AuthError} when it does not work. */
  verify(token: string): Promise<Principal>;
}

/** Settings of {@link createApiAccessTokens}. */
export interface ApiAccessTokensOptions {
  /** The current state, whose API keys decide whether a token still works. */
  state: () => State;
  now: () => Date;
  /** When this many tokens are held, the one that expires soonest makes way. */
  maxTokens?: number;
}

interface Held {
  supplier: string;
  thumbprint: string;
  expiresAt: number;
}

/** Creates the in-memory token table. */
export function createApiAccessTokens(options: ApiAccessTokensOptions): ApiAccessTokens {
  const maxTokens = options.maxTokens ?? DEFAULT_MAX_API_ACCESS_TOKENS;
  const held = new Map<string, Held>();

  async function issue(key: ApiKey): Promise<IssuedAccessToken> {
    const at = options.now().getTime();
    const token = API_ACCESS_TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
    makeRoom(at);
    held.set(await sha256Hex(token), {
      supplier: key.supplier,
      thumbprint: key.thumbprint,
      expiresAt: at + API_ACCESS_TOKEN_SECONDS * 1000,
    });
    return { token, expiresIn: API_ACCESS_TOKEN_SECONDS };
  }

  async function verify(token: string): Promise<Principal> {
    if (!TOKEN_PATTERN.test(token)) throw refused("token_invalid", "it is malformed");
    const hash = await sha256Hex(token);
    const entry = held.get(hash);
    if (entry === undefined) {
      throw refused("token_invalid", "it is unknown (issued before a restart, or never)");
    }
    if (entry.expiresAt <= options.now().getTime()) {
      held.delete(hash);
      throw refused("token_expired", "it has expired");
    }
    const state = options.state();
    const key = state.apiKeys.get(apiKeyKey(entry.supplier, entry.thumbprint));
    if (key === undefined || key.revoked !== undefined || !state.suppliers.has(key.supplier)) {
      held.delete(hash);
      throw refused("token_invalid", `its API key "${entry.thumbprint}" was revoked`);
    }
    return apiKeyPrincipal(key);
  }

  // Tokens are issued in expiry order, so the first entries are the oldest.
  function makeRoom(at: number): void {
    for (const [hash, entry] of held) {
      if (entry.expiresAt > at && held.size < maxTokens) return;
      held.delete(hash);
    }
  }

  return { issue, verify };
}

/** Whether a bearer token is one of ours rather than a broker's. */
export function isApiAccessToken(token: string): boolean {
  return token.startsWith(API_ACCESS_TOKEN_PREFIX);
}

/**
 * A bearer-token verifier that accepts our API access tokens and hands every
 * other token to `broker`, the login broker's verifier.
 */
export function withApiAccessTokens(
  tokens: ApiAccessTokens,
  broker: (token: string) => Promise<Principal>,
): (token: string) => Promise<Principal> {
  return (token) => isApiAccessToken(token) ? tokens.verify(token) : broker(token);
}

function refused(code: "token_invalid" | "token_expired", reason: string): AuthError {
  return new AuthError(code, `Cannot accept the API access token: ${reason}`);
}
