import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { KvkNumber } from "../domain/ids.ts";
import type { Principal } from "../domain/actor.ts";

/** A logged-in browser: who it is, its CSRF token and when the session ends (epoch ms). */
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

/** Settings of the session cookies. */
export interface SessionOptions {
  /** HMAC key for the cookie signatures; at least 32 characters. */
  secret: string;
  /** Mark cookies `Secure` and use the `__Host-` prefix; false only on http://localhost. */
  secure: boolean;
  maxAgeSeconds?: number;
}

/** Browser sessions kept in signed cookies. */
export interface Sessions {
  /** Starts a session for a freshly verified principal, with a new CSRF token. */
  start(c: Context, principal: Principal): Promise<Session>;
  /** The current session, or null when absent, tampered with, malformed or expired. */
  read(c: Context): Promise<Session | null>;
  end(c: Context): void;
  /** Remembers the state of a login that is under way (10 minutes at most). */
  saveLoginState(c: Context, state: LoginState): Promise<void>;
  /** Returns and forgets the login state, or null when absent, tampered with or expired. */
  takeLoginState(c: Context): Promise<LoginState | null>;
}

const SESSION_COOKIE = "akkoord_session";
const LOGIN_COOKIE = "akkoord_login";
const LOGIN_MAX_AGE_SECONDS = 600;
const DEFAULT_MAX_AGE_SECONDS = 8 * 60 * 60;
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

const PrincipalSchema = z.object({
  subject: z.string().min(1),
  name: z.string(),
  organisation: KvkNumber,
  assurance: z.string(),
  mandates: z.array(z.enum(["beoordelen", "ondertekenen"])),
  supplier: z.boolean(),
  admin: z.boolean(),
  // Sessions started before the auditor role existed stay valid until they end.
  auditor: z.boolean().default(false),
});

const SessionSchema = z.object({
  principal: PrincipalSchema,
  csrf: z.string().min(32),
  expiresAt: z.number(),
});

const LoginCookieSchema = z.object({
  state: z.string().min(1),
  nonce: z.string().min(1),
  codeVerifier: z.string().min(43),
  next: z.string(),
  expiresAt: z.number(),
});

/** Creates signed-cookie sessions (`HttpOnly`, `SameSite=Lax`, `Path=/`). */
export function createSessions(options: SessionOptions): Sessions {
  if (options.secret.length < 32) {
    throw new Error("Cannot create sessions: the cookie secret must be at least 32 characters");
  }
  const maxAge = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const cookie = cookieOptions(options.secure);

  async function start(c: Context, principal: Principal): Promise<Session> {
    const session = { principal, csrf: randomToken(), expiresAt: Date.now() + maxAge * 1000 };
    await setSignedCookie(c, SESSION_COOKIE, JSON.stringify(session), options.secret, {
      ...cookie,
      maxAge,
    });
    return session;
  }

  async function read(c: Context): Promise<Session | null> {
    const session = await readSigned(c, SESSION_COOKIE, SessionSchema);
    return session !== null && session.expiresAt > Date.now() ? session : null;
  }

  function end(c: Context): void {
    deleteCookie(c, SESSION_COOKIE, cookie);
  }

  async function saveLoginState(c: Context, state: LoginState): Promise<void> {
    const value = { ...state, expiresAt: Date.now() + LOGIN_MAX_AGE_SECONDS * 1000 };
    await setSignedCookie(c, LOGIN_COOKIE, JSON.stringify(value), options.secret, {
      ...cookie,
      maxAge: LOGIN_MAX_AGE_SECONDS,
    });
  }

  async function takeLoginState(c: Context): Promise<LoginState | null> {
    const value = await readSigned(c, LOGIN_COOKIE, LoginCookieSchema);
    deleteCookie(c, LOGIN_COOKIE, cookie);
    if (value === null || value.expiresAt <= Date.now()) return null;
    const { expiresAt: _expiresAt, ...state } = value;
    return state;
  }

  async function readSigned<T>(c: Context, name: string, schema: z.ZodType<T>): Promise<T | null> {
    const raw = await getSignedCookie(c, options.secret, name, cookie.prefix);
    if (typeof raw !== "string") return null;
    const parsed = schema.safeParse(parseJson(raw));
    return parsed.success ? parsed.data : null;
  }

  return { start, read, end, saveLoginState, takeLoginState };
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
  const body = await c.req.parseBody();
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
