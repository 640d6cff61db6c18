import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { KvkNumber } from "../domain/ids.ts";
import type { Principal } from "../domain/actor.ts";
import {
  createMemorySessionRecords,
  type SessionRecord,
  type SessionRecords,
} from "../store/session_records.ts";

/** A logged-in browser: who it is, its CSRF token and its absolute end (epoch ms). */
export interface Session {
  principal: Principal;
  csrf: string;
  expiresAt: number;
}

/** What the login redirect must find again on the callback (OIDC state, nonce, PKCE). */
export interface LoginState {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The local path to return to after login. */
  next: string;
}

/** Settings of the sessions. */
export interface SessionOptions {
  /** HMAC key for the cookie signatures; at least 32 characters. */
  secret: string;
  /** Mark cookies `Secure` and use the `__Host-` prefix; false only on http://localhost. */
  secure: boolean;
  /** The absolute lifetime of a session; 8 hours when left out. */
  maxAgeSeconds?: number;
  /** A session ends this long after it was last used; 30 minutes when left out. */
  idleSeconds?: number;
  /** Where sessions are kept; in memory only when left out. */
  records?: SessionRecords<Principal>;
  /** The clock, for tests. */
  now?: () => Date;
}

/**
 * Browser sessions kept on the server. The cookie carries only a random,
 * signed session id; the principal and the CSRF token stay on the server.
 */
export interface Sessions {
  /**
   * Starts a session for a freshly verified principal, with a new id and CSRF
   * token. A session the browser had before ends (no session fixation).
   */
  start(c: Context, principal: Principal): Promise<Session>;
  /** The current session, or null when absent, tampered with, ended or expired. */
  read(c: Context): Promise<Session | null>;
  /** Ends the current session on the server and in the browser. */
  end(c: Context): Promise<void>;
  /**
   * Ends every session of the current session's person (subject and
   * organisation), in every browser; returns how many ended.
   */
  endEverywhere(c: Context): Promise<number>;
  /** Remembers the state of a login that is under way (10 minutes at most). */
  saveLoginState(c: Context, state: LoginState): Promise<void>;
  /** Returns and forgets the login state, or null when absent, tampered with or expired. */
  takeLoginState(c: Context): Promise<LoginState | null>;
}

const SESSION_COOKIE = "akkoord_session";
const LOGIN_COOKIE = "akkoord_login";
const LOGIN_MAX_AGE_SECONDS = 600;
const DEFAULT_MAX_AGE_SECONDS = 8 * 60 * 60;
const DEFAULT_IDLE_SECONDS = 30 * 60;
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const PrincipalSchema = z.object({
  subject: z.string().min(1),
  name: z.string(),
  organisation: KvkNumber,
  assurance: z.string(),
  mandates: z.array(z.enum(["beoordelen", "ondertekenen"])),
  supplier: z.boolean(),
  admin: z.boolean(),
  auditor: z.boolean(),
});

const LoginCookieSchema = z.object({
  state: z.string().min(1),
  nonce: z.string().min(1),
  codeVerifier: z.string().min(43),
  next: z.string(),
  expiresAt: z.number(),
});

/** A stored principal, checked, or null when it is not one; for reading the session file. */
export function parseSessionPrincipal(value: unknown): Principal | null {
  const parsed = PrincipalSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Creates server-side sessions with signed id cookies (`HttpOnly`, `SameSite=Lax`, `Path=/`). */
export function createSessions(options: SessionOptions): Sessions {
  if (options.secret.length < 32) {
    throw new Error("Cannot create sessions: the cookie secret must be at least 32 characters");
  }
  const now = options.now ?? (() => new Date());
  const maxAgeMs = (options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS) * 1000;
  const idleTimeoutMs = (options.idleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000;
  const records = options.records ?? createMemorySessionRecords<Principal>({ now });
  const cookie = cookieOptions(options.secure);

  async function start(c: Context, principal: Principal): Promise<Session> {
    const replacing = await sessionId(c);
    const { id, record } = await records.create({
      principal,
      csrf: randomToken(),
      maxAgeMs,
      idleTimeoutMs,
      ...(replacing === null ? {} : { replacing }),
    });
    await setSignedCookie(c, SESSION_COOKIE, id, options.secret, {
      ...cookie,
      maxAge: Math.floor(maxAgeMs / 1000),
    });
    return sessionOf(record);
  }

  async function read(c: Context): Promise<Session | null> {
    const id = await sessionId(c);
    const record = id === null ? null : await records.find(id);
    return record === null ? null : sessionOf(record);
  }

  async function end(c: Context): Promise<void> {
    const id = await sessionId(c);
    if (id !== null) await records.remove(id);
    deleteCookie(c, SESSION_COOKIE, cookie);
  }

  async function endEverywhere(c: Context): Promise<number> {
    const session = await read(c);
    deleteCookie(c, SESSION_COOKIE, cookie);
    if (session === null) return 0;
    const { subject, organisation } = session.principal;
    return await records.removeAllOf({ subject, organisation });
  }

  async function sessionId(c: Context): Promise<string | null> {
    const raw = await getSignedCookie(c, options.secret, SESSION_COOKIE, cookie.prefix);
    return typeof raw === "string" && SESSION_ID.test(raw) ? raw : null;
  }

  async function saveLoginState(c: Context, state: LoginState): Promise<void> {
    const value = { ...state, expiresAt: now().getTime() + LOGIN_MAX_AGE_SECONDS * 1000 };
    await setSignedCookie(c, LOGIN_COOKIE, JSON.stringify(value), options.secret, {
      ...cookie,
      maxAge: LOGIN_MAX_AGE_SECONDS,
    });
  }

  async function takeLoginState(c: Context): Promise<LoginState | null> {
    const raw = await getSignedCookie(c, options.secret, LOGIN_COOKIE, cookie.prefix);
    deleteCookie(c, LOGIN_COOKIE, cookie);
    const value = typeof raw === "string" ? LoginCookieSchema.safeParse(parseJson(raw)) : null;
    if (!value?.success || value.data.expiresAt <= now().getTime()) return null;
    const { expiresAt: _expiresAt, ...state } = value.data;
    return state;
  }

  return { start, read, end, endEverywhere, saveLoginState, takeLoginState };
}

function sessionOf(record: SessionRecord<Principal>): Session {
  return { principal: record.principal, csrf: record.csrf, expiresAt: record.expiresAt };
}

/**
 * Refuses state-changing requests (POST, PUT, PATCH, DELETE) that do not come from
 * our own pages: the `Origin` header (or, without it, the `Referer`) must be
 * `expectedOrigin`, and the form field `_csrf` (or the `X-CSRF-Token` header)
 * must equal the session's CSRF token. Failure throws `HTTPException(403)` with a
 * Dutch message.
 */
export function csrfGuard(expectedOrigin: string, sessions: Sessions): MiddlewareHandler {
  const origin = new URL(expectedOrigin).origin;

  return async (c, next) => {
    if (!UNSAFE_METHODS.has(c.req.method)) return await next();

    if (requestOrigin(c) !== origin) {
      throw forbidden("Dit formulier kwam niet van deze website en is daarom niet verwerkt.");
    }
    const session = await sessions.read(c);
    if (session === null) {
      throw forbidden("Uw sessie is verlopen. Log opnieuw in en probeer het nog eens.");
    }
    const token = await submittedToken(c);
    if (token === undefined || !equalInConstantTime(token, session.csrf)) {
      throw forbidden(
        "Dit formulier is verlopen of onvolledig. Laad de pagina opnieuw en probeer het nog eens.",
      );
    }
    await next();
  };
}

function cookieOptions(secure: boolean): CookieOptions {
  const base: CookieOptions = { httpOnly: true, sameSite: "Lax", path: "/", secure };
  return secure ? { ...base, prefix: "host" } : base;
}

function requestOrigin(c: Context): string | undefined {
  const origin = c.req.header("origin");
  if (origin !== undefined) return origin;
  const referer = c.req.header("referer");
  if (referer === undefined) return undefined;
  return URL.canParse(referer) ? new URL(referer).origin : undefined;
}

async function submittedToken(c: Context): Promise<string | undefined> {
  const header = c.req.header("x-csrf-token");
  if (header !== undefined) return header;
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined;
  // A body that cannot be parsed carries no token; the guard then refuses it.
  const body = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
  const field = body["_csrf"];
  return typeof field === "string" ? field : undefined;
}

function forbidden(message: string): HTTPException {
  return new HTTPException(403, { message });
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

/** A random token of 32 bytes, base64url. */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Bytes as unpadded base64url (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Compares two strings without leaking where they differ. */
export function equalInConstantTime(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let difference = left.length ^ right.length;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ (right[i % right.length] ?? 0);
  return difference === 0;
}
