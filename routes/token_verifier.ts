import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import type { Mandate, Principal } from "../domain/actor.ts";

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
 * 403 when we can but the login is not strong enough, 503 when the broker's keys
 * cannot be fetched.
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
  keys_unavailable: 503,
};

/** eHerkenning assurance levels, weakest first. */
export const ASSURANCE_LEVELS = ["loa2", "loa2plus", "loa3", "loa4"] as const;

/** One eHerkenning assurance level. */
export type AssuranceLevel = typeof ASSURANCE_LEVELS[number];

/** The URN prefix of eHerkenning assurance levels. */
export const ASSURANCE_URN_PREFIX = "urn:etoegang:core:assurance-class:";

/**
 * Where each fact sits in the token. Every name is one top-level claim, read
 * literally: `urn:etoegang:core:LegalSubjectID` is not a path of nested objects.
 */
export interface ClaimNames {
  organisation: string;
  actingSubject: string;
  name: string;
  assurance: string;
  serviceIds: string;
}

/** The eHerkenning attribute names used by most brokers. */
export const DEFAULT_CLAIM_NAMES: ClaimNames = {
  organisation: "urn:etoegang:core:LegalSubjectID",
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

/** Settings of a token verifier. */
export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  jwksUrl: URL;
  /** Asymmetric JWS algorithms accepted; HS* and none are refused at creation. */
  algorithms?: string[];
  minAssurance?: AssuranceLevel;
  leewaySeconds?: number;
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
  /** The clock, for tests. */
  currentDate?: () => Date;
}

/** What the caller may additionally demand of one token. */
export interface VerifyOptions {
  /** The OIDC nonce the ID token must carry. */
  nonce?: string;
}

/** Verifies broker tokens and turns them into principals. */
export interface TokenVerifier {
  verify(token: string, options?: VerifyOptions): Promise<Principal>;
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

const KVK_PATTERN = /^\d{8}$/;

/** Creates a verifier that checks tokens against the broker's published keys (JWKS). */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const algorithms = checkedAlgorithms(options.algorithms ?? DEFAULT_ALGORITHMS);
  const claims: ClaimNames = { ...DEFAULT_CLAIM_NAMES, ...options.claims };
  const minAssurance = options.minAssurance ?? "loa3";
  const leeway = options.leewaySeconds ?? 30;
  const keys = createRemoteJWKSet(options.jwksUrl);

  async function verify(token: string, verifyOptions: VerifyOptions = {}): Promise<Principal> {
    if (token === "") throw new AuthError("token_missing", "Cannot verify: no token was given");
    const payload = await verifiedPayload(token);
    if (verifyOptions.nonce !== undefined && payload.nonce !== verifyOptions.nonce) {
      throw new AuthError("token_invalid", "Cannot accept the ID token: its nonce does not match");
    }
    return principalOf(payload, { claims, services: options.services, minAssurance, options });
  }

  async function verifiedPayload(token: string): Promise<JWTPayload> {
    try {
      const result = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        clockTolerance: leeway,
        currentDate: options.currentDate?.(),
        requiredClaims: ["exp", "iat", claims.organisation, claims.assurance],
      });
      return result.payload;
    } catch (error) {
      throw authErrorOf(error);
    }
  }

  return { verify };
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

interface MappingContext {
  claims: ClaimNames;
  services: ServiceIds;
  minAssurance: AssuranceLevel;
  options: TokenVerifierOptions;
}

function principalOf(payload: JWTPayload, context: MappingContext): Principal {
  const { claims, services } = context;
  const subject = subjectOf(payload, claims);
  const assurance = assuranceOf(payload[claims.assurance], context);
  const serviceIds = serviceIdsOf(payload[claims.serviceIds], claims.serviceIds);
  const mandates: Mandate[] = [];
  if (serviceIds.includes(services.beoordelen)) mandates.push("beoordelen");
  if (serviceIds.includes(services.ondertekenen)) mandates.push("ondertekenen");
  const organisation = organisationOf(payload[claims.organisation], claims.organisation);
  const operators = context.options.operators ?? { admin: [], auditor: [] };
  return {
    subject,
    name: nameOf(payload[claims.name], subject),
    organisation,
    assurance: ASSURANCE_URN_PREFIX + assurance,
    mandates,
    supplier: serviceIds.includes(services.leverancier),
    admin: serviceIds.includes(services.beheer) && operators.admin.includes(organisation),
    auditor: serviceIds.includes(services.audit) && operators.auditor.includes(organisation),
  };
}

function subjectOf(payload: JWTPayload, claims: ClaimNames): string {
  const acting = payload[claims.actingSubject];
  const subject = acting ?? payload.sub;
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
  return typeof value === "string" && value.trim() !== "" ? value.trim() : subject;
}

function organisationOf(value: unknown, claim: string): string {
  if (typeof value !== "string" || !KVK_PATTERN.test(value)) {
    throw new AuthError(
      "token_invalid",
      `Cannot accept the token: claim "${claim}" is not a KvK number of 8 digits as a string (got ${
        describe(value)
      })`,
    );
  }
  return value;
}

function assuranceOf(value: unknown, context: MappingContext): AssuranceLevel {
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
  return `a ${Array.isArray(value) ? "list" : typeof value}`;
}

function authErrorOf(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  const code = joseCode(error);
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
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
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
    token_expired: "it has expired",
    token_not_yet_valid: "it is not valid yet",
    token_wrong_audience: "it was issued for another audience",
    token_wrong_issuer: "it was issued by another issuer",
    token_bad_signature: "its signature does not match a key of the broker",
    token_bad_algorithm: "its signing algorithm is not allowed",
    assurance_too_low: "its assurance level is too low",
    claims_missing: "a required claim is missing",
    keys_unavailable: "the broker's signing keys could not be fetched",
  };
  return reasons[code];
}
