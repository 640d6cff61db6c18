/**
 * Verifies a client assertion (RFC 7523 §2.2 and §3, `private_key_jwt`): a
 * JWT a supplier's software signs with a private key whose public half a
 * person of the supplier registered in Akkoord.
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from "jose";
import { API_KEY_ALGORITHMS } from "../domain/api_key_jwk.ts";
import { KvkNumber } from "../domain/ids.ts";
import type { ApiKey } from "../domain/state.ts";
import type { JtiReplayCache } from "./jti_replay_cache.ts";

/** The one `client_assertion_type` accepted (RFC 7523 §2.2). */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** The longest an assertion may live, from `iat` to `exp`, in seconds. */
export const MAX_ASSERTION_SECONDS = 300;
/** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
export const ASSERTION_LEEWAY_SECONDS = 30;

const MAX_JTI_LENGTH = 256;
const MAX_ASSERTION_LENGTH = 8192;

/** The RFC 6749 §5.2 error a refused assertion is reported with. */
export type AssertionErrorCode = "invalid_client" | "temporarily_unavailable";

/**
 * A refused assertion. The description is ASCII without quotes, as RFC 6749
 * allows in `error_description`, and never repeats the assertion.
 */
export class AssertionError extends Error {
  readonly code: AssertionErrorCode;

  constructor(code: AssertionErrorCode, description: string) {
    super(description);
    this.name = "AssertionError";
    this.code = code;
  }
}

/** What {@link verifyClientAssertion} checks an assertion against. */
export interface AssertionContext {
  /** The `client_id` parameter, when sent: the supplier's KvK number. */
  clientId: string | undefined;
  /** The unrevoked keys of a supplier (none for an unknown one). */
  activeKeys: (supplier: string) => ApiKey[];
  /** Accepted `aud` values: the token endpoint's URL and the service's own address. */
  audiences: string[];
  replay: JtiReplayCache;
  now: Date;
}

/**
 * Verifies an assertion and returns the key that signed it: the signature by
 * one of the supplier's unrevoked keys (the one whose thumbprint is `kid`, or
 * each in turn without `kid`) with an allowed algorithm; `iss` and `sub` both
 * the supplier; `aud` ours; `exp`, `iat` and `jti` present, at most
 * {@link MAX_ASSERTION_SECONDS} from `iat` to `exp`; and a `jti` not seen
 * before. Throws an {@link AssertionError}.
 */
export async function verifyClientAssertion(
  assertion: string,
  context: AssertionContext,
): Promise<ApiKey> {
  const { header, clientId } = unverifiedParts(assertion, context.clientId);
  const keys = candidateKeys(header, context.activeKeys(clientId));
  let verified: { key: ApiKey; payload: JWTPayload } | undefined;
  for (const key of keys) {
    const payload = await verifiedPayload(assertion, key, header.alg!, clientId, context);
    if (payload !== null) {
      verified = { key, payload };
      break;
    }
  }
  if (verified === undefined) {
    throw invalidClient("the signature does not match a registered, unrevoked key of the client");
  }
  checkLifetime(verified.payload);
  await rememberJti(verified.payload, clientId, context);
  return verified.key;
}

function unverifiedParts(
  assertion: string,
  clientIdParameter: string | undefined,
): { header: ProtectedHeaderParameters; clientId: string } {
  if (assertion.length > MAX_ASSERTION_LENGTH) {
    throw invalidClient(`the client assertion is longer than ${MAX_ASSERTION_LENGTH} characters`);
  }
  let header: ProtectedHeaderParameters;
  let issuer: unknown;
  try {
    header = decodeProtectedHeader(assertion);
    issuer = decodeJwt(assertion).iss;
  } catch {
    throw invalidClient("the client assertion is not a signed JWT");
  }
  const clientId = clientIdParameter ?? issuer;
  if (typeof clientId !== "string" || !KvkNumber.safeParse(clientId).success) {
    throw invalidClient("the client id is not a supplier KvK number of 8 digits");
  }
  if (!(API_KEY_ALGORITHMS as readonly string[]).includes(String(header.alg))) {
    throw invalidClient(`the signing algorithm is not one of ${API_KEY_ALGORITHMS.join(", ")}`);
  }
  return { header, clientId };
}

function candidateKeys(header: ProtectedHeaderParameters, active: ApiKey[]): ApiKey[] {
  if (active.length === 0) {
    throw invalidClient("the client is unknown or has no registered, unrevoked key");
  }
  const named = header.kid === undefined
    ? active
    : active.filter((key) => key.thumbprint === header.kid);
  if (named.length === 0) {
    throw invalidClient("the kid does not name a registered, unrevoked key of the client");
  }
  const fitting = named.filter((key) => (key.algorithms as string[]).includes(header.alg!));
  if (fitting.length === 0) {
    throw invalidClient("the signing algorithm does not fit the registered key");
  }
  return fitting;
}

/** The verified claims, or null when this key did not make the signature. */
async function verifiedPayload(
  assertion: string,
  key: ApiKey,
  algorithm: string,
  clientId: string,
  context: AssertionContext,
): Promise<JWTPayload | null> {
  try {
    const publicKey = await importJWK(key.jwk, algorithm);
    const { payload } = await jwtVerify(assertion, publicKey, {
      algorithms: key.algorithms,
      issuer: clientId,
      subject: clientId,
      audience: context.audiences,
      clockTolerance: ASSERTION_LEEWAY_SECONDS,
      maxTokenAge: MAX_ASSERTION_SECONDS,
      currentDate: context.now,
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
    });
    return payload;
  } catch (error) {
    if (joseCode(error) === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") return null;
    throw invalidClient(claimFailure(error));
  }
}

function checkLifetime(payload: JWTPayload): void {
  const { exp, iat } = payload as { exp: number; iat: number };
  if (exp - iat > MAX_ASSERTION_SECONDS) {
    throw invalidClient(
      `the client assertion lives ${
        exp - iat
      } seconds; at most ${MAX_ASSERTION_SECONDS} are allowed`,
    );
  }
}

async function rememberJti(
  payload: JWTPayload,
  clientId: string,
  context: AssertionContext,
): Promise<void> {
  const { jti, exp } = payload;
  if (typeof jti !== "string" || jti === "" || jti.length > MAX_JTI_LENGTH) {
    throw invalidClient(`the jti claim is not a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  const expiresAt = ((exp ?? 0) + ASSERTION_LEEWAY_SECONDS) * 1000;
  const outcome = await context.replay.remember(
    `${clientId} ${jti}`,
    expiresAt,
    context.now.getTime(),
  );
  if (outcome === "replayed") {
    throw invalidClient("the client assertion was used before (its jti was seen)");
  }
  if (outcome === "full") {
    throw new AssertionError(
      "temporarily_unavailable",
      "too many client assertions are in use; try again in a few minutes",
    );
  }
}

function claimFailure(error: unknown): string {
  const code = joseCode(error);
  const claim = (error as { claim?: unknown }).claim;
  const reason = (error as { reason?: unknown }).reason;
  if (code === "ERR_JWT_EXPIRED") {
    return claim === "iat"
      ? `the client assertion was issued more than ${MAX_ASSERTION_SECONDS} seconds ago`
      : "the client assertion has expired";
  }
  if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && typeof claim === "string") {
    return reason === "missing"
      ? `the client assertion has no ${claim} claim`
      : `the ${claim} claim of the client assertion is not what this client and endpoint need`;
  }
  if (code === "ERR_JOSE_ALG_NOT_ALLOWED") return "the signing algorithm is not allowed";
  return "the client assertion is malformed";
}

function joseCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function invalidClient(description: string): AssertionError {
  return new AssertionError("invalid_client", `Client authentication failed: ${description}`);
}
