import { type Context, Hono } from "hono";
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import { z } from "zod";
import { renderPage } from "../views/render.ts";
import {
  DevBrokerErrorPage,
  type DevBrokerOrganisation,
  DevBrokerPage,
} from "../views/dev_broker_page.ts";
import {
  ASSURANCE_LEVELS,
  ASSURANCE_URN_PREFIX,
  DEFAULT_CLAIM_NAMES,
  type ServiceIds,
} from "./token_verifier.ts";

/** Settings of the development broker. */
export interface DevBrokerOptions {
  /** The broker's issuer URL, which is also where it is mounted, e.g. `http://127.0.0.1:8000/dev-broker`. */
  issuer: string;
  /** The one client allowed; ID tokens and access tokens carry it as `aud`. */
  audience: string;
  organisations: () => DevBrokerOrganisation[];
  services: ServiceIds;
  /**
   * Keeps the signing key across restarts: returns the stored private JWK
   * (JSON), calling `create` when there is none. Without it, a new key per start.
   */
  persistKey?: (create: () => Promise<string>) => Promise<string>;
  /**
   * Issue ID tokens that carry only `sub` (besides iss, aud, times and nonce),
   * as brokers set to a minimal ID token do; the claims then come from userinfo.
   */
  minimalIdToken?: boolean;
}

/** A running development broker. */
export interface DevBroker {
  /** The Hono app to mount at the issuer's path. */
  app: Hono;
  /**
   * Signs a token with the broker's key; iss, aud, iat, nbf and exp default to a
   * valid token. `typ` defaults to `JWT`; access tokens of the code flow are `at+jwt`.
   */
  issueToken(claims: JWTPayload, header?: { typ?: string }): Promise<string>;
}

/** The signing algorithm of the development broker. */
export const DEV_BROKER_ALGORITHM = "ES256";

const TOKEN_LIFETIME_SECONDS = 600;
const CODE_LIFETIME_MS = 60_000;
const COMPANY_NAME_CLAIM = "urn:etoegang:1.11:attribute-represented:CompanyName";
const KVK_QUALIFIER = "urn:etoegang:1.9:EntityConcernedID:KvKnr";
const ACCESS_TOKEN_TYPE = "at+jwt";
const PROTOCOL_CLAIMS = new Set(["iss", "aud", "iat", "nbf", "exp", "nonce", "jti", "azp"]);
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

const AuthorizationRequest = z.object({
  response_type: z.literal("code"),
  client_id: z.string().min(1),
  redirect_uri: z.string().min(1),
  state: z.string().min(1).max(512),
  nonce: z.string().min(1).max(512),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  code_challenge_method: z.literal("S256"),
});
type AuthorizationRequest = z.infer<typeof AuthorizationRequest>;

const LoginChoice = z.object({
  organisation: z.string(),
  name: z.string().trim().min(1).max(120),
  mandate: z.array(z.enum(["beoordelen", "ondertekenen", "beheer", "auditor"])),
  assurance: z.enum(ASSURANCE_LEVELS),
});
type LoginChoice = z.infer<typeof LoginChoice>;

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  nonce: string;
  codeChallenge: string;
  claims: JWTPayload;
  expiresAt: number;
}

interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * Creates an OIDC-shaped stand-in for an eHerkenning broker, for development and
 * tests only: anyone can log in as any listed organisation. It serves discovery,
 * JWKS, an authorization page (code flow with PKCE S256), a token endpoint
 * with `authorization_code` and, for listed suppliers, `client_credentials`,
 * and a userinfo endpoint that answers for its own access tokens.
 */
export async function createDevBroker(options: DevBrokerOptions): Promise<DevBroker> {
  const issuer = options.issuer.replace(/\/+$/, "");
  const key = await signingKey(options.persistKey);
  const codes = new Map<string, IssuedCode>();

  async function issueToken(claims: JWTPayload, header: { typ?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = {
      iss: issuer,
      aud: options.audience,
      iat: now,
      nbf: now,
      exp: now + TOKEN_LIFETIME_SECONDS,
      ...claims,
    };
    return await new SignJWT(payload)
      .setProtectedHeader({
        alg: DEV_BROKER_ALGORITHM,
        kid: key.publicJwk.kid,
        typ: header.typ ?? "JWT",
      })
      .sign(key.privateKey);
  }

  const app = new Hono();

  app.get("/.well-known/openid-configuration", (c) => c.json(discovery(issuer)));

  app.get("/jwks", (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json({ keys: [key.publicJwk] });
  });

  app.get("/authorize", (c) => {
    const request = checkedAuthorizationRequest(c.req.query(), options, issuer);
    if (typeof request === "string") return errorPage(c, request);
    return c.html(renderPage(DevBrokerPage({
      action: `${new URL(issuer).pathname.replace(/\/+$/, "")}/authorize`,
      request,
      organisations: options.organisations(),
    })));
  });

  app.post("/authorize", async (c) => {
    const form = await c.req.parseBody({ all: true });
    const request = checkedAuthorizationRequest(singleValues(form), options, issuer);
    if (typeof request === "string") return errorPage(c, request);
    const choice = LoginChoice.safeParse({ ...singleValues(form), mandate: listOf(form.mandate) });
    if (!choice.success) return errorPage(c, "Vul een naam in en kies een geldig niveau.");
    const organisation = options.organisations().find((o) => o.kvk === choice.data.organisation);
    if (organisation === undefined) return errorPage(c, "Deze organisatie is niet bekend.");

    const claims = await identityClaims(organisation, choice.data, options);
    const code = storeCode(codes, request, claims);
    const target = new URL(request.redirect_uri);
    target.searchParams.set("code", code);
    target.searchParams.set("state", request.state);
    return c.redirect(target.href, 303);
  });

  app.post("/token", async (c) => {
    c.header("Cache-Control", "no-store");
    const form = singleValues(await c.req.parseBody());
    if (form.grant_type === "authorization_code") {
      return await exchangeCode(c, form, codes, {
        issueToken,
        minimalIdToken: options.minimalIdToken ?? false,
      });
    }
    if (form.grant_type === "client_credentials") {
      const supplier = options.organisations().find((o) =>
        o.kind === "supplier" && o.kvk === form.client_id
      );
      if (supplier === undefined) return tokenError(c, "invalid_client", 401);
      const claims = await identityClaims(supplier, apiChoice(supplier), options);
      const accessToken = await issueToken(claims, { typ: ACCESS_TOKEN_TYPE });
      return c.json(tokenResponse({ access_token: accessToken }));
    }
    return tokenError(c, "unsupported_grant_type", 400);
  });

  const userinfo = async (c: Context) => {
    c.header("Cache-Control", "no-store");
    const claims = await accessTokenClaims(c.req.header("authorization"), key, {
      issuer,
      audience: options.audience,
    });
    if (claims === undefined) {
      c.header("WWW-Authenticate", 'Bearer realm="dev-broker", error="invalid_token"');
      return c.json({ error: "invalid_token" }, 401);
    }
    return c.json(claims);
  };
  app.get("/userinfo", userinfo);
  app.post("/userinfo", userinfo);

  return { app, issueToken };
}

function discovery(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "client_credentials"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: [DEV_BROKER_ALGORITHM],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
    claims_supported: ["sub", "name", "acr", "nonce", ...Object.values(DEFAULT_CLAIM_NAMES)],
  };
}

function checkedAuthorizationRequest(
  input: Record<string, string>,
  options: DevBrokerOptions,
  issuer: string,
): AuthorizationRequest | string {
  const parsed = AuthorizationRequest.safeParse(input);
  if (!parsed.success) {
    return "Het inlogverzoek is onvolledig: response_type=code, client_id, redirect_uri, state, " +
      "nonce en een PKCE code_challenge met code_challenge_method=S256 zijn verplicht.";
  }
  if (parsed.data.client_id !== options.audience) {
    return `De toepassing "${parsed.data.client_id}" is bij deze testmakelaar niet bekend.`;
  }
  if (!isAllowedRedirect(parsed.data.redirect_uri, issuer)) {
    return `Het terugkeeradres "${parsed.data.redirect_uri}" is niet toegestaan.`;
  }
  return parsed.data;
}

function isAllowedRedirect(redirectUri: string, issuer: string): boolean {
  if (!URL.canParse(redirectUri)) return false;
  const target = new URL(redirectUri);
  const origin = new URL(issuer);
  return target.origin === origin.origin && LOOPBACK_HOSTS.has(target.hostname) &&
    target.username === "" && target.password === "" && target.hash === "";
}

function storeCode(
  codes: Map<string, IssuedCode>,
  request: AuthorizationRequest,
  claims: JWTPayload,
): string {
  const now = Date.now();
  for (const [code, issued] of codes) {
    if (issued.expiresAt <= now) codes.delete(code);
  }
  const code = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  codes.set(code, {
    clientId: request.client_id,
    redirectUri: request.redirect_uri,
    nonce: request.nonce,
    codeChallenge: request.code_challenge,
    claims,
    expiresAt: now + CODE_LIFETIME_MS,
  });
  return code;
}

async function exchangeCode(
  c: Context,
  form: Record<string, string>,
  codes: Map<string, IssuedCode>,
  tokens: {
    issueToken: (claims: JWTPayload, header?: { typ?: string }) => Promise<string>;
    minimalIdToken: boolean;
  },
): Promise<Response> {
  const code = form.code ?? "";
  const issued = codes.get(code);
  // A code is spent by its first use, even a failed one (RFC 6749 §4.1.2).
  codes.delete(code);
  if (issued === undefined || issued.expiresAt <= Date.now()) {
    return tokenError(c, "invalid_grant", 400);
  }
  const matches = form.redirect_uri === issued.redirectUri &&
    (form.client_id === undefined || form.client_id === issued.clientId) &&
    await s256(form.code_verifier ?? "") === issued.codeChallenge;
  if (!matches) return tokenError(c, "invalid_grant", 400);

  const identity = tokens.minimalIdToken ? { sub: issued.claims.sub } : issued.claims;
  const idToken = await tokens.issueToken({
    ...identity,
    aud: issued.clientId,
    nonce: issued.nonce,
  });
  const accessToken = await tokens.issueToken(
    { ...issued.claims, aud: issued.clientId },
    { typ: ACCESS_TOKEN_TYPE },
  );
  return c.json(tokenResponse({ id_token: idToken, access_token: accessToken }));
}

// The broker answers userinfo only for access tokens it issued itself, still valid.
async function accessTokenClaims(
  authorization: string | undefined,
  key: SigningKey,
  expected: { issuer: string; audience: string },
): Promise<JWTPayload | undefined> {
  const token = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization ?? "")?.[1];
  if (token === undefined) return undefined;
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      ...expected,
      algorithms: [DEV_BROKER_ALGORITHM],
      typ: ACCESS_TOKEN_TYPE,
    });
    return Object.fromEntries(
      Object.entries(payload).filter(([name]) => !PROTOCOL_CLAIMS.has(name)),
    );
  } catch {
    return undefined;
  }
}

function tokenResponse(tokens: Record<string, string>): Record<string, unknown> {
  return { ...tokens, token_type: "Bearer", expires_in: TOKEN_LIFETIME_SECONDS };
}

function tokenError(c: Context, error: string, status: 400 | 401): Response {
  return c.json({ error }, status);
}

function errorPage(c: Context, message: string): Response {
  return c.html(renderPage(DevBrokerErrorPage({ message })), 400);
}

async function identityClaims(
  organisation: DevBrokerOrganisation,
  choice: LoginChoice,
  options: DevBrokerOptions,
): Promise<JWTPayload> {
  const subject = await pseudonym(organisation.kvk, choice.name);
  return {
    sub: subject,
    name: choice.name,
    acr: ASSURANCE_URN_PREFIX + choice.assurance,
    [DEFAULT_CLAIM_NAMES.actingSubject]: subject,
    [DEFAULT_CLAIM_NAMES.organisation]: organisation.kvk,
    [DEFAULT_CLAIM_NAMES.organisationType]: KVK_QUALIFIER,
    [DEFAULT_CLAIM_NAMES.serviceIds]: serviceIdsOf(organisation, choice, options.services),
    [COMPANY_NAME_CLAIM]: organisation.name,
  };
}

function serviceIdsOf(
  organisation: DevBrokerOrganisation,
  choice: LoginChoice,
  services: ServiceIds,
): string[] {
  const ids: string[] = [];
  if (organisation.kind === "supplier") ids.push(services.leverancier);
  if (organisation.kind === "board" && choice.mandate.includes("beoordelen")) {
    ids.push(services.beoordelen);
  }
  if (organisation.kind === "board" && choice.mandate.includes("ondertekenen")) {
    ids.push(services.ondertekenen);
  }
  if (choice.mandate.includes("beheer")) ids.push(services.beheer);
  if (choice.mandate.includes("auditor")) ids.push(services.audit);
  return ids;
}

function apiChoice(supplier: DevBrokerOrganisation): LoginChoice {
  return { organisation: supplier.kvk, name: supplier.name, mandate: [], assurance: "loa3" };
}

// Real eHerkenning pseudonyms are opaque and stable per person and service
// provider; a hash of organisation and name behaves the same way here.
async function pseudonym(kvk: string, name: string): Promise<string> {
  const input = new TextEncoder().encode(`akkoord-dev-broker\n${kvk}\n${name}`);
  const digest = await crypto.subtle.digest("SHA-256", input);
  return hex(new Uint8Array(digest)).slice(0, 40);
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
}

function singleValues(form: Record<string, unknown>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(form)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === "string") values[name] = first;
  }
  return values;
}

function listOf(value: unknown): string[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((item): item is string => typeof item === "string");
}

async function signingKey(
  persistKey: DevBrokerOptions["persistKey"],
): Promise<SigningKey> {
  const create = async () => JSON.stringify(await newPrivateJwk());
  const privateJwk = JSON.parse(persistKey ? await persistKey(create) : await create()) as JWK;
  const { d: _d, ...publicPart } = privateJwk;
  const kid = await calculateJwkThumbprint(publicPart);
  const privateKey = await importJWK(privateJwk, DEV_BROKER_ALGORITHM);
  const publicKey = await importJWK(publicPart, DEV_BROKER_ALGORITHM);
  if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) {
    throw new Error("Cannot load the development broker key: it is not an asymmetric key");
  }
  return {
    privateKey,
    publicKey,
    publicJwk: { ...publicPart, kid, alg: DEV_BROKER_ALGORITHM, use: "sig" },
  };
}

async function newPrivateJwk(): Promise<JWK> {
  const pair = await generateKeyPair(DEV_BROKER_ALGORITHM, { extractable: true });
  return await exportJWK(pair.privateKey);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
