import {
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from "jose";
import type { Mandate, Principal } from "../domain/actor.ts";
import { hasVisibleContent, plainText } from "../domain/plain_text.ts";
import { createJwksCache, JwksUnavailableError } from "./jwks_cache.ts";
import { fetchUserinfo, UserinfoUnavailableError } from "./userinfo.ts";

/** The reasons a login or bearer token is refused. */
export type AuthErrorCode =
  | "token_missing"
  | "token_invalid"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_wrong_audience"
  | "token_wrong_issuer"
  | "token_bad_signature"
  | "token_bad_algorithm"
  | "assurance_too_low"
  | "claims_missing"
  | "mandate_missing"
  | "organisation_unsupported"
  | "userinfo_mismatch"
  | "userinfo_unavailable"
  | "keys_unavailable";

/** A refused token, with a stable code. The message never quotes the token itself. */
export class AuthError extends Error {
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthError";
    this.code = code;
  }
}

/**
 * The HTTP status of each auth error: 401 when we cannot tell who is asking,
 * 403 when we can but the login does not give access, 503 when the broker's
 * keys or userinfo cannot be fetched.
 */
export const AUTH_ERROR_STATUS: Record<AuthErrorCode, 401 | 403 | 503> = {
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_wrong_audience: 401,
  token_wrong_issuer: 401,
  token_bad_signature: 401,
  token_bad_algorithm: 401,
  assurance_too_low: 403,
  claims_missing: 401,
  mandate_missing: 403,
  organisation_unsupported: 403,
  userinfo_mismatch: 401,
  userinfo_unavailable: 503,
  keys_unavailable: 503,
};

/** eHerkenning assurance levels, weakest first. */
export const ASSURANCE_LEVELS = ["loa2", "loa2plus", "loa3", "loa4"] as const;

/** One eHerkenning assurance level. */
export type AssuranceLevel = typeof ASSURANCE_LEVELS[number];

/** The URN prefix of eHerkenning assurance levels. */
export const ASSURANCE_URN_PREFIX = "urn:etoegang:core:assurance-class:";

/** Clock skew tolerated on exp, nbf and iat, in seconds. */
export const DEFAULT_LEEWAY_SECONDS = 30;

/** How old an ID token may be when a login completes, in seconds. */
export const DEFAULT_MAX_ID_TOKEN_AGE_SECONDS = 600;

/**
 * Where each fact sits in the token or userinfo. Every name is one top-level
 * claim, read literally: `urn:etoegang:core:LegalSubjectID` or `org.kvk` is
 * never a path of nested objects.
 */
export interface ClaimNames {
  /** The organisation's KvK number (or RSIN). */
  organisation: string;
  /** What kind of number `organisation` is: a `…:KvKnr` or `…:RSIN` qualifier. */
  organisationType: string;
  actingSubject: string;
  name: string;
  assurance: string;
  serviceIds: string;
}

/** The eHerkenning attribute names used by most brokers. */
export const DEFAULT_CLAIM_NAMES: ClaimNames = {
  organisation: "urn:etoegang:core:LegalSubjectID",
  organisationType: "namequalifier",
  actingSubject: "urn:etoegang:core:ActingSubjectID",
  name: "name",
  assurance: "acr",
  serviceIds: "urn:etoegang:core:ServiceID",
};

/** The eHerkenning ServiceID that grants each role. */
export interface ServiceIds {
  beoordelen: string;
  ondertekenen: string;
  leverancier: string;
  beheer: string;
  /** Auditors, who may clone the full history. */
  audit: string;
}

/** When a login asks the broker's userinfo endpoint. */
export type UserinfoMode = "when_needed" | "always";

/** Settings of a token verifier. */
export interface TokenVerifierOptions {
  issuer: string;
  /** Our client id: tokens must name it in `aud`, and in `azp` if they have one. */
  audience: string;
  jwksUrl: URL;
  /** Asymmetric JWS algorithms accepted; HS* and none are refused at creation. */
  algorithms?: string[];
  minAssurance?: AssuranceLevel;
  leewaySeconds?: number;
  /** How old an ID token may be when the login completes. */
  maxIdTokenAgeSeconds?: number;
  /** The JWKS cache: how long keys are kept, and the least time between fetches. */
  jwks?: { maxAgeSeconds?: number; cooldownSeconds?: number };
  claims?: Partial<ClaimNames>;
  services: ServiceIds;
  /**
   * KvK numbers whose people may hold the admin or auditor role. Any
   * organisation can grant its own people any eHerkenning service, so the
   * ServiceID alone never makes someone an admin or auditor.
   */
  operators?: { admin: string[]; auditor: string[] };
  /**
   * Broker-specific assurance values mapped to levels. The four eHerkenning URNs
   * are always understood; any other value is refused.
   */
  assuranceAliases?: Record<string, AssuranceLevel>;
  /**
   * `when_needed` (default): ask userinfo only when the ID token lacks a claim
   * we need; `always`: ask it at every login.
   */
  userinfo?: UserinfoMode;
  /** The clock, for tests; also drives the JWKS cache. */
  currentDate?: () => Date;
}

/** What the caller may additionally demand of one token. */
export interface VerifyOptions {
  /** The OIDC nonce; giving it makes the token be checked as an ID token. */
  nonce?: string;
}

/** What a finished authorization-code exchange gave us. */
export interface LoginTokens {
  idToken: string;
  /** The nonce sent in the authorization request. */
  nonce: string;
  /** For the userinfo endpoint. */
  accessToken?: string;
  /** The `userinfo_endpoint` of the broker's discovery document. */
  userinfoEndpoint?: string;
}

/** Verifies broker tokens and turns them into principals. */
export interface TokenVerifier {
  /** Verifies a bearer access token (the supplier API), or an ID token when a nonce is given. */
  verify(token: string, options?: VerifyOptions): Promise<Principal>;
  /**
   * Verifies a login: the ID token with its nonce and age, userinfo merged in
   * when needed, and at least one of our ServiceIDs.
   */
  verifyLogin(login: LoginTokens): Promise<Principal>;
}

const ASYMMETRIC_ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

const DEFAULT_ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"];

// RFC 7515 §4.1.9: the "application/" prefix of typ may be left out; media types are case-insensitive.
const ACCEPTED_TYPES = {
  id_token: ["jwt"],
  access_token: ["jwt", "at+jwt"],
} as const;

type TokenKind = keyof typeof ACCEPTED_TYPES;

const KVK_PATTERN = /^\d{8}$/;
const RSIN_PATTERN = /^\d{9}$/;

/** Creates a verifier that checks tokens against the broker's published keys (JWKS). */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const algorithms = checkedAlgorithms(options.algorithms ?? DEFAULT_ALGORITHMS);
  const claims: ClaimNames = { ...DEFAULT_CLAIM_NAMES, ...options.claims };
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  const maxIdTokenAge = options.maxIdTokenAgeSeconds ?? DEFAULT_MAX_ID_TOKEN_AGE_SECONDS;
  const now = () => options.currentDate?.() ?? new Date();
  const keys = createJwksCache({
    url: options.jwksUrl,
    ...options.jwks,
    now: () => now().getTime(),
  });
  const context: MappingContext = {
    claims,
    services: options.services,
    minAssurance: options.minAssurance ?? "loa3",
    options,
  };

  async function verify(token: string, verifyOptions: VerifyOptions = {}): Promise<Principal> {
    const kind = verifyOptions.nonce === undefined ? "access_token" : "id_token";
    const payload = await verifiedPayload(token, kind, verifyOptions.nonce);
    return principalOf(payload, context);
  }

  async function verifyLogin(login: LoginTokens): Promise<Principal> {
    const payload = await verifiedPayload(login.idToken, "id_token", login.nonce);
    const claimsSet = await withUserinfo(payload, login);
    const principal = principalOf(claimsSet, context);
    requireOneOfOurServices(claimsSet, context);
    return principal;
  }

  async function verifiedPayload(
    token: string,
    kind: TokenKind,
    nonce: string | undefined,
  ): Promise<JWTPayload> {
    if (token === "") throw new AuthError("token_missing", "Cannot verify: no token was given");
    checkHeader(token, algorithms, kind);
    const currentDate = now();
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        clockTolerance: leeway,
        currentDate,
        requiredClaims: kind === "id_token" ? ["exp", "iat", "sub"] : ["exp", "iat"],
        ...(kind === "id_token" ? { maxTokenAge: maxIdTokenAge } : {}),
      });
      payload = result.payload;
    } catch (error) {
      throw authErrorOf(error);
    }
    checkIssuedAt(payload, currentDate, leeway);
    checkAuthorizedParty(payload, options.audience);
    if (kind === "id_token" && payload.nonce !== nonce) {
      throw new AuthError("token_invalid", "Cannot accept the ID token: its nonce does not match");
    }
    return payload;
  }

  async function withUserinfo(
    payload: JWTPayload,
    login: LoginTokens,
  ): Promise<Record<string, unknown>> {
    const always = options.userinfo === "always";
    if (!always && missingClaims(payload, claims).length === 0) return payload;
    if (login.userinfoEndpoint === undefined || login.accessToken === undefined) {
      if (!always) return payload;
      throw new AuthError(
        "userinfo_unavailable",
        "Cannot complete the login: userinfo is configured to be always read, but the broker " +
          "named no userinfo_endpoint or gave no access token",
      );
    }
    let userinfo: Record<string, unknown>;
    try {
      userinfo = await fetchUserinfo(login.userinfoEndpoint, login.accessToken);
    } catch (error) {
      if (!(error instanceof UserinfoUnavailableError)) throw error;
      throw new AuthError("userinfo_unavailable", error.message, { cause: error });
    }
    // OpenID Connect Core §5.3.4: userinfo of another subject must not be used.
    if (userinfo.sub !== payload.sub) {
      throw new AuthError(
        "userinfo_mismatch",
        `Cannot complete the login: the userinfo "sub" ${
          describe(userinfo.sub)
        } is not the ID token's "sub"`,
      );
    }
    // Signed claims outrank unsigned ones: userinfo only fills what the ID token lacks.
    return { ...userinfo, ...payload };
  }

  return { verify, verifyLogin };
}

/** Extracts the token from an `Authorization: Bearer <token>` header (RFC 6750). */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? "");
  if (!match?.[1]) {
    throw new AuthError("token_missing", "Cannot authenticate: no Bearer token in Authorization");
  }
  return match[1];
}

function checkedAlgorithms(algorithms: string[]): string[] {
  if (algorithms.length === 0) {
    throw new Error("Cannot create a token verifier: the algorithm allow-list is empty");
  }
  for (const algorithm of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(algorithm)) {
      throw new Error(
        `Cannot create a token verifier: algorithm "${algorithm}" is not an asymmetric JWS algorithm`,
      );
    }
  }
  return [...algorithms];
}

// Checked before any key is looked up, so a refused header costs no JWKS fetch.
function checkHeader(token: string, algorithms: string[], kind: TokenKind): void {
  const parts = token.split(".").length;
  if (parts !== 3) {
    throw new AuthError(
      "token_invalid",
      parts === 5
        ? "Cannot accept the token: it is encrypted (JWE), which is not supported"
        : "Cannot accept the token: it is not a signed JWT of three parts",
    );
  }
  const header = headerOf(token);
  if (typeof header.alg !== "string" || !algorithms.includes(header.alg)) {
    throw new AuthError(
      "token_bad_algorithm",
      `Cannot accept the token: algorithm ${describe(header.alg)} is not one of ${
        algorithms.join(", ")
      }`,
    );
  }
  if (header.crit !== undefined) {
    throw new AuthError(
      "token_invalid",
      "Cannot accept the token: it marks header parameters as critical (crit), which we do not support",
    );
  }
  if (header.typ !== undefined && !typeAccepted(header.typ, kind)) {
    throw new AuthError(
      "token_invalid",
      `Cannot accept the token as ${kind === "id_token" ? "an ID token" : "an access token"}: ` +
        `its type ${describe(header.typ)} is not ${ACCEPTED_TYPES[kind].join(" or ")}`,
    );
  }
}

function headerOf(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch (error) {
    throw new AuthError("token_invalid", "Cannot accept the token: its header is not valid", {
      cause: error,
    });
  }
}

function typeAccepted(typ: unknown, kind: TokenKind): boolean {
  if (typeof typ !== "string") return false;
  const type = typ.toLowerCase().replace(/^application\//, "");
  return (ACCEPTED_TYPES[kind] as readonly string[]).includes(type);
}

function checkIssuedAt(payload: JWTPayload, currentDate: Date, leeway: number): void {
  const now = currentDate.getTime() / 1000;
  if (typeof payload.iat === "number" && payload.iat > now + leeway) {
    throw new AuthError(
      "token_not_yet_valid",
      'Cannot accept the token: it was issued in the future (claim "iat")',
    );
  }
}

// OpenID Connect Core §2 and §3.1.3.7: azp names the party the token was issued
// to; with several audiences it must be there and be us.
function checkAuthorizedParty(payload: JWTPayload, clientId: string): void {
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (payload.azp === undefined && audiences.length > 1) {
    throw new AuthError(
      "token_wrong_audience",
      'Cannot accept the token: it has several audiences but no "azp" naming us',
    );
  }
  if (payload.azp !== undefined && payload.azp !== clientId) {
    throw new AuthError(
      "token_wrong_audience",
      `Cannot accept the token: it was issued to party ${describe(payload.azp)}, not to us`,
    );
  }
}

function missingClaims(claimsSet: Record<string, unknown>, claims: ClaimNames): string[] {
  const needed = [claims.organisation, claims.assurance, claims.serviceIds, claims.actingSubject];
  return needed.filter((name) => claimsSet[name] === undefined);
}

interface MappingContext {
  claims: ClaimNames;
  services: ServiceIds;
  minAssurance: AssuranceLevel;
  options: TokenVerifierOptions;
}

function principalOf(claimsSet: Record<string, unknown>, context: MappingContext): Principal {
  const { claims, services } = context;
  const subject = subjectOf(claimsSet, claims);
  const assurance = assuranceOf(claimsSet[claims.assurance], context);
  const organisation = organisationOf(claimsSet, claims);
  const serviceIds = serviceIdsOf(claimsSet[claims.serviceIds], claims.serviceIds);
  const mandates: Mandate[] = [];
  if (serviceIds.includes(services.beoordelen)) mandates.push("beoordelen");
  if (serviceIds.includes(services.ondertekenen)) mandates.push("ondertekenen");
  const operators = context.options.operators ?? { admin: [], auditor: [] };
  return {
    subject,
    name: nameOf(claimsSet[claims.name], subject),
    organisation,
    assurance: ASSURANCE_URN_PREFIX + assurance,
    mandates,
    supplier: serviceIds.includes(services.leverancier),
    admin: serviceIds.includes(services.beheer) && operators.admin.includes(organisation),
    auditor: serviceIds.includes(services.audit) && operators.auditor.includes(organisation),
  };
}

function requireOneOfOurServices(claimsSet: Record<string, unknown>, context: MappingContext) {
  const ours = new Set(Object.values(context.services));
  const given = serviceIdsOf(claimsSet[context.claims.serviceIds], context.claims.serviceIds);
  if (!given.some((id) => ours.has(id))) {
    throw new AuthError(
      "mandate_missing",
      `Cannot accept the login: claim "${context.claims.serviceIds}" names none of our ServiceIDs`,
    );
  }
}

function subjectOf(claimsSet: Record<string, unknown>, claims: ClaimNames): string {
  const acting = claimsSet[claims.actingSubject];
  const subject = acting ?? claimsSet.sub;
  if (typeof subject !== "string" || subject === "") {
    throw new AuthError(
      "claims_missing",
      `Cannot accept the token: neither "${claims.actingSubject}" nor "sub" names the acting person`,
    );
  }
  return subject;
}

// A broker may leave the display name out of a minimal token; the pseudonym still
// identifies the person, so the login goes on rather than failing on a courtesy.
function nameOf(value: unknown, subject: string): string {
  if (typeof value !== "string") return subject;
  const name = plainText(value).trim();
  return hasVisibleContent(name) ? name : subject;
}

function organisationOf(claimsSet: Record<string, unknown>, claims: ClaimNames): string {
  const value = claimsSet[claims.organisation];
  if (value === undefined) {
    throw new AuthError(
      "claims_missing",
      `Cannot accept the token: claim "${claims.organisation}" (the organisation) is missing`,
    );
  }
  const type = identifierTypeOf(claimsSet[claims.organisationType], value, claims);
  if (type === "rsin" && typeof value === "string" && RSIN_PATTERN.test(value)) {
    throw new AuthError(
      "organisation_unsupported",
      `Cannot accept the login: the organisation is identified by RSIN "${value}", and boards ` +
        "and suppliers are known by KvK number only",
    );
  }
  if (type !== "kvk" || typeof value !== "string" || !KVK_PATTERN.test(value)) {
    throw new AuthError(
      "token_invalid",
      `Cannot accept the token: claim "${claims.organisation}" is not a ${
        type === "kvk" ? "KvK number of 8 digits" : "RSIN of 9 digits"
      } as a string (got ${describe(value)})`,
    );
  }
  return value;
}

function identifierTypeOf(qualifier: unknown, value: unknown, claims: ClaimNames): "kvk" | "rsin" {
  if (qualifier === undefined) {
    return typeof value === "string" && RSIN_PATTERN.test(value) ? "rsin" : "kvk";
  }
  const kind = typeof qualifier === "string"
    ? qualifier.slice(qualifier.lastIndexOf(":") + 1).toLowerCase()
    : "";
  if (kind === "kvknr" || kind === "kvk") return "kvk";
  if (kind === "rsin") return "rsin";
  throw new AuthError(
    "token_invalid",
    `Cannot accept the token: claim "${claims.organisationType}" value ${
      describe(qualifier)
    } names neither a KvK number nor an RSIN`,
  );
}

function assuranceOf(value: unknown, context: MappingContext): AssuranceLevel {
  if (value === undefined) {
    throw new AuthError(
      "claims_missing",
      `Cannot accept the token: claim "${context.claims.assurance}" (the assurance level) is missing`,
    );
  }
  const level = levelOf(value, context.options.assuranceAliases ?? {});
  if (level === undefined) {
    throw new AuthError(
      "token_invalid",
      `Cannot accept the token: claim "${context.claims.assurance}" value ${
        describe(value)
      } is not an eHerkenning assurance level`,
    );
  }
  if (ASSURANCE_LEVELS.indexOf(level) < ASSURANCE_LEVELS.indexOf(context.minAssurance)) {
    throw new AuthError(
      "assurance_too_low",
      `Cannot accept the login: assurance "${level}" is below the required "${context.minAssurance}"`,
    );
  }
  return level;
}

function levelOf(
  value: unknown,
  aliases: Record<string, AssuranceLevel>,
): AssuranceLevel | undefined {
  if (typeof value !== "string") return undefined;
  if (Object.hasOwn(aliases, value)) return aliases[value];
  const suffix = value.startsWith(ASSURANCE_URN_PREFIX)
    ? value.slice(ASSURANCE_URN_PREFIX.length)
    : "";
  return ASSURANCE_LEVELS.find((level) => level === suffix);
}

function serviceIdsOf(value: unknown, claim: string): string[] {
  if (value === undefined) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  throw new AuthError(
    "token_invalid",
    `Cannot accept the token: claim "${claim}" is neither a string nor a list of strings`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return `"${value.slice(0, 80)}"`;
  return `a ${Array.isArray(value) ? "list" : value === null ? "null" : typeof value}`;
}

function authErrorOf(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof JwksUnavailableError) {
    return new AuthError("keys_unavailable", error.message, { cause: error });
  }
  const code = joseCode(error);
  if (code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS") {
    return new AuthError(
      "token_bad_signature",
      "Cannot accept the token: the broker publishes several keys that fit its kid and " +
        "algorithm, and we do not guess which one signed it",
      { cause: error },
    );
  }
  const mapped = code === undefined ? "keys_unavailable" : codeOfJose(code, error);
  const claim = claimOf(error);
  const detail = claim === undefined ? "" : ` (claim "${claim}")`;
  return new AuthError(mapped, `Cannot accept the token: ${reasonOf(mapped)}${detail}`, {
    cause: error,
  });
}

function claimOf(error: unknown): string | undefined {
  const claim = (error as { claim?: unknown }).claim;
  return typeof claim === "string" ? claim : undefined;
}

function joseCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error)) return undefined;
  return typeof error.code === "string" && error.code.startsWith("ERR_J") ? error.code : undefined;
}

function codeOfJose(code: string, error: unknown): AuthErrorCode {
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "token_expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return codeOfClaimFailure(error);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "token_bad_signature";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "token_bad_algorithm";
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
    case "ERR_JOSE_GENERIC":
      return "keys_unavailable";
    default:
      return "token_invalid";
  }
}

function codeOfClaimFailure(error: unknown): AuthErrorCode {
  const { claim, reason } = error as { claim?: unknown; reason?: unknown };
  if (reason === "missing") return "claims_missing";
  switch (claim) {
    case "aud":
      return "token_wrong_audience";
    case "iss":
      return "token_wrong_issuer";
    case "nbf":
    case "iat":
      return "token_not_yet_valid";
    default:
      return "token_invalid";
  }
}

function reasonOf(code: AuthErrorCode): string {
  const reasons: Record<AuthErrorCode, string> = {
    token_missing: "no token was given",
    token_invalid: "it is malformed or a claim has an invalid value",
    token_expired: "it has expired or is too old",
    token_not_yet_valid: "it is not valid yet",
    token_wrong_audience: "it was issued for another audience",
    token_wrong_issuer: "it was issued by another issuer",
    token_bad_signature: "its signature does not match a key of the broker",
    token_bad_algorithm: "its signing algorithm is not allowed",
    assurance_too_low: "its assurance level is too low",
    claims_missing: "a required claim is missing",
    mandate_missing: "it carries none of our ServiceIDs",
    organisation_unsupported: "its organisation identifier is not supported",
    userinfo_mismatch: "the userinfo is about another subject",
    userinfo_unavailable: "the broker's userinfo could not be read",
    keys_unavailable: "the broker's signing keys could not be fetched",
  };
  return reasons[code];
}
