/**
 * Personal access tokens with which auditors and administrators clone the
 * history over HTTP. They are operational state, not history: one JSON file
 * in the data folder, holding only the SHA-256 of each secret.
 */
import { z } from "zod";
import { writeFileDurably } from "./durable_file.ts";

/** A role that may hold an access token. */
export type AccessTokenRole = "auditor" | "admin";

/** Who a token belongs to: the person and the organisation they acted for. */
export interface AccessTokenOwner {
  subject: string;
  organisation: string;
}

/** One stored token; the secret itself is never kept. */
export interface AccessToken {
  id: string;
  /** SHA-256 of the secret, 64 lowercase hex digits. */
  hash: string;
  ownerSubject: string;
  ownerName: string;
  organisation: string;
  /** The owner's roles when the token was created. */
  roles: AccessTokenRole[];
  label: string;
  /** ISO 8601 timestamps. */
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string;
}

/** What {@link AccessTokens.createToken} needs. */
export interface NewAccessToken {
  owner: AccessTokenOwner & { name: string };
  roles: AccessTokenRole[];
  label: string;
  /** Days until the token expires; {@link DEFAULT_TOKEN_DAYS} when left out. */
  expiresInDays?: number;
}

/** The personal access tokens of the service. */
export interface AccessTokens {
  /** Creates a token; the plaintext secret is returned here and nowhere else. */
  createToken(input: NewAccessToken): Promise<{ token: AccessToken; secret: string }>;
  /** The unexpired token whose secret this is, or null. */
  verify(secret: string): Promise<AccessToken | null>;
  /** Notes that a token was used; writes at most once a minute per token. */
  recordUse(id: string): Promise<void>;
  /** Removes the owner's token; false when the owner has no token with this id. */
  revoke(id: string, owner: AccessTokenOwner): Promise<boolean>;
  /** The owner's tokens, expired ones included, newest first. */
  list(owner: AccessTokenOwner): AccessToken[];
}

/** Settings of {@link openAccessTokens}. */
export interface AccessTokensOptions {
  /** The JSON file, e.g. `data/access_tokens.json`; created on the first token. */
  path: string;
  /** The clock, for tests. */
  now?: () => Date;
}

/** Days a token lives when no expiry is chosen. */
export const DEFAULT_TOKEN_DAYS = 90;
/** The longest a token may live, in days. */
export const MAX_TOKEN_DAYS = 365;
/** The longest label, in characters. */
export const MAX_LABEL_LENGTH = 100;
/** The prefix of every secret, so that a leaked one is recognisable. */
export const SECRET_PREFIX = "akk_";

const SECRET_PATTERN = /^akk_[A-Za-z0-9_-]{43}$/;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How often at most that a token was used is written. */
export const USE_RECORD_INTERVAL_MS = 60 * 1000;
/** How long an expired token stays listed, so that its owner sees why a clone fails. */
export const EXPIRED_KEPT_MS = 30 * DAY_MS;

const StoredToken = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{16}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  ownerSubject: z.string().min(1),
  ownerName: z.string(),
  organisation: z.string().min(1),
  roles: z.array(z.enum(["auditor", "admin"])).min(1),
  label: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().optional(),
});

const TokenFile = z.object({ tokens: z.array(StoredToken) });

/** Opens the token file (a missing file means no tokens yet). */
export async function openAccessTokens(options: AccessTokensOptions): Promise<AccessTokens> {
  const now = options.now ?? (() => new Date());
  const tokens = new Map((await readTokens(options.path)).map((token) => [token.id, token]));
  let writing: Promise<void> = Promise.resolve();

  function save(): Promise<void> {
    const bytes = encodeTokens([...tokens.values()]);
    const write = writing.then(() => writeFileDurably(options.path, bytes, 0o600)).catch(
      (error: unknown) => {
        throw new Error(`Cannot write the access token file "${options.path}"`, { cause: error });
      },
    );
    // The caller of this write gets its error; the next write must not fail with it.
    writing = write.catch(() => undefined);
    return write;
  }

  async function createToken(
    input: NewAccessToken,
  ): Promise<{ token: AccessToken; secret: string }> {
    const created = now();
    const { token, secret } = await newAccessToken(input, created);
    pruneExpired(tokens, created);
    tokens.set(token.id, token);
    try {
      await save();
    } catch (error) {
      tokens.delete(token.id);
      throw error;
    }
    return { token: { ...token }, secret };
  }

  async function verify(secret: string): Promise<AccessToken | null> {
    if (!SECRET_PATTERN.test(secret)) return null;
    const hash = await sha256Hex(secret);
    let found: AccessToken | null = null;
    for (const token of tokens.values()) {
      if (equalHashes(token.hash, hash)) found = token;
    }
    if (found === null || Date.parse(found.expiresAt) <= now().getTime()) return null;
    return { ...found };
  }

  async function recordUse(id: string): Promise<void> {
    const token = tokens.get(id);
    if (token === undefined) return;
    const at = now();
    const last = token.lastUsedAt === undefined ? -Infinity : Date.parse(token.lastUsedAt);
    if (at.getTime() - last < USE_RECORD_INTERVAL_MS) return;
    token.lastUsedAt = at.toISOString();
    await save();
  }

  async function revoke(id: string, owner: AccessTokenOwner): Promise<boolean> {
    const token = tokens.get(id);
    if (token === undefined || !ownedBy(token, owner)) return false;
    tokens.delete(id);
    try {
      await save();
    } catch (error) {
      tokens.set(id, token);
      throw error;
    }
    return true;
  }

  function list(owner: AccessTokenOwner): AccessToken[] {
    return [...tokens.values()]
      .filter((token) => ownedBy(token, owner))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map((token) => ({ ...token }));
  }

  return { createToken, verify, recordUse, revoke, list };
}

/**
 * A new token for `input`, created at `created`, and its secret; throws a
 * RangeError for an expiry or label out of bounds.
 */
export async function newAccessToken(
  input: NewAccessToken,
  created: Date,
): Promise<{ token: AccessToken; secret: string }> {
  const days = checkedDays(input.expiresInDays ?? DEFAULT_TOKEN_DAYS);
  const label = checkedLabel(input.label);
  if (input.roles.length === 0) {
    throw new Error("Cannot create an access token: its owner is neither auditor nor admin");
  }
  const secret = SECRET_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
  const token: AccessToken = {
    id: base64url(crypto.getRandomValues(new Uint8Array(12))),
    hash: await sha256Hex(secret),
    ownerSubject: input.owner.subject,
    ownerName: input.owner.name,
    organisation: input.owner.organisation,
    roles: [...new Set(input.roles)],
    label,
    createdAt: created.toISOString(),
    expiresAt: new Date(created.getTime() + days * DAY_MS).toISOString(),
  };
  return { token, secret };
}

/** Whether `secret` has the form of a token secret (checked before hashing it). */
export function isTokenSecret(secret: string): boolean {
  return SECRET_PATTERN.test(secret);
}

/** The SHA-256 of a token secret as 64 lowercase hex digits. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return hex(new Uint8Array(digest));
}

async function readTokens(path: string): Promise<AccessToken[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new Error(`Cannot read the access token file "${path}"`, { cause: error });
  }
  const parsed = TokenFile.safeParse(parseJson(text));
  if (!parsed.success) {
    throw new Error(
      `Cannot read the access token file "${path}": it is not a list of tokens (${
        parsed.error.issues[0]?.message ?? "invalid JSON"
      })`,
    );
  }
  return parsed.data.tokens;
}

function encodeTokens(tokens: AccessToken[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ tokens }, null, 2) + "\n");
}

function pruneExpired(tokens: Map<string, AccessToken>, at: Date): void {
  for (const [id, token] of tokens) {
    if (Date.parse(token.expiresAt) + EXPIRED_KEPT_MS < at.getTime()) tokens.delete(id);
  }
}

function checkedDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
    throw new RangeError(
      `Cannot create an access token: an expiry of ${days} days is not a whole number from 1 to ${MAX_TOKEN_DAYS}`,
    );
  }
  return days;
}

function checkedLabel(label: string): string {
  const trimmed = label.trim();
  if (trimmed === "" || trimmed.length > MAX_LABEL_LENGTH) {
    throw new RangeError(
      `Cannot create an access token: its label must have 1 to ${MAX_LABEL_LENGTH} characters`,
    );
  }
  return trimmed;
}

/** Whether `owner` owns `token`. */
export function ownedBy(token: AccessToken, owner: AccessTokenOwner): boolean {
  return token.ownerSubject === owner.subject && token.organisation === owner.organisation;
}

/** Compares every character, so that the time taken does not tell how much of a hash matched. */
export function equalHashes(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
