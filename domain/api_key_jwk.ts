/**
 * The public keys suppliers register for the API's client assertions
 * (RFC 7523 `private_key_jwt`): which JSON Web Keys (RFC 7517) are accepted,
 * and their RFC 7638 thumbprint, which names a key everywhere.
 */
import { createHash } from "node:crypto";

/** A public signing key as the history stores it: only the members its thumbprint covers. */
export type PublicJwk =
  | { kty: "EC"; crv: "P-256"; x: string; y: string }
  | { kty: "RSA"; n: string; e: string }
  | { kty: "OKP"; crv: "Ed25519"; x: string };

/** The JWS algorithms a client assertion may be signed with. */
export const API_KEY_ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA", "Ed25519"] as const;

/** One accepted JWS algorithm. */
export type ApiKeyAlgorithm = typeof API_KEY_ALGORITHMS[number];

/** Why a JWK is refused; the pages turn each into a Dutch sentence. */
export type JwkProblem =
  | "too_long"
  | "not_json"
  | "not_an_object"
  | "private_key"
  | "symmetric_key"
  | "unsupported_key_type"
  | "unsupported_curve"
  | "rsa_too_small"
  | "rsa_too_large"
  | "malformed_member"
  | "not_on_curve"
  | "wrong_algorithm"
  | "not_for_signing";

/** A JWK that cannot be registered, with a stable {@link JwkProblem} code. */
export class JwkError extends Error {
  readonly code: JwkProblem;

  constructor(code: JwkProblem, message: string) {
    super(message);
    this.name = "JwkError";
    this.code = code;
  }
}

/** A validated public key with the algorithms it may sign with. */
export interface AcceptedJwk {
  jwk: PublicJwk;
  algorithms: ApiKeyAlgorithm[];
}

/** The smallest RSA modulus accepted, in bits. */
export const MIN_RSA_BITS = 2048;
// Verifying with a huge modulus costs the server; nobody needs more than this.
const MAX_RSA_BITS = 8192;
/** The longest JWK text accepted, in characters. */
export const MAX_JWK_CHARACTERS = 8192;

// Members of RFC 7518 §6 that only a private or symmetric key has.
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth"];
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// The curve P-256, y² = x³ - 3x + b over the field of prime p (FIPS 186-5, SEC 2 §2.4.2).
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

const ALGORITHMS_OF: Record<PublicJwk["kty"], ApiKeyAlgorithm[]> = {
  EC: ["ES256"],
  RSA: ["RS256", "PS256"],
  OKP: ["EdDSA", "Ed25519"],
};

/**
 * Reads the JWK a supplier pasted and keeps only its public members. Refuses
 * private and symmetric keys, keys for encryption, and anything but EC P-256,
 * RSA of at least {@link MIN_RSA_BITS} bits and Ed25519. A JWK `alg` member
 * narrows the algorithms to that one.
 */
export function parsePublicJwk(text: string): AcceptedJwk {
  if (text.length > MAX_JWK_CHARACTERS) {
    throw new JwkError(
      "too_long",
      `Cannot read the JWK: it has more than ${MAX_JWK_CHARACTERS} characters`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JwkError("not_json", "Cannot read the JWK: it is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JwkError("not_an_object", "Cannot read the JWK: it is not a JSON object");
  }
  return acceptedJwk(value as Record<string, unknown>);
}

/**
 * The RFC 7638 thumbprint of a public key: the SHA-256 of its required
 * members in lexicographic order without white space, as unpadded base64url.
 */
export function jwkThumbprint(jwk: PublicJwk): string {
  const canonical = jwk.kty === "EC"
    ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : jwk.kty === "RSA"
    ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("base64url");
}

/** Whether a value is a thumbprint: 43 base64url characters (a SHA-256). */
export function isThumbprint(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value);
}

function acceptedJwk(input: Record<string, unknown>): AcceptedJwk {
  const kty = input.kty;
  const secret = PRIVATE_MEMBERS.filter((member) => Object.hasOwn(input, member));
  if (secret.length > 0) {
    throw new JwkError(
      "private_key",
      `Cannot register the JWK: it holds private key member(s) ${secret.join(", ")}`,
    );
  }
  if (kty === "oct" || Object.hasOwn(input, "k")) {
    throw new JwkError("symmetric_key", "Cannot register the JWK: it is a symmetric (oct) key");
  }
  if (input.use !== undefined && input.use !== "sig") {
    throw new JwkError("not_for_signing", `Cannot register the JWK: its use is not "sig"`);
  }
  const jwk = publicMembers(kty, input);
  return { jwk, algorithms: algorithmsOf(jwk, input.alg) };
}

function publicMembers(kty: unknown, input: Record<string, unknown>): PublicJwk {
  switch (kty) {
    case "EC":
      if (input.crv !== "P-256") throw unsupportedCurve(input.crv);
      return onP256({
        kty,
        crv: "P-256",
        x: fixedLength(input.x, "x", 32),
        y: fixedLength(input.y, "y", 32),
      });
    case "OKP":
      if (input.crv !== "Ed25519") throw unsupportedCurve(input.crv);
      return { kty, crv: "Ed25519", x: fixedLength(input.x, "x", 32) };
    case "RSA":
      return { kty, n: rsaModulus(input.n), e: rsaExponent(input.e) };
    default:
      throw new JwkError(
        "unsupported_key_type",
        `Cannot register the JWK: key type ${describe(kty)} is not EC, RSA or OKP`,
      );
  }
}

/**
 * Refuses an EC key whose point is not on P-256: WebCrypto in Deno imports
 * such a key without complaint, and it could never verify a signature.
 */
function onP256(jwk: PublicJwk & { kty: "EC" }): PublicJwk {
  const x = bigIntOf(base64urlBytes(jwk.x, "x"));
  const y = bigIntOf(base64urlBytes(jwk.y, "y"));
  const fits = x < P256_P && y < P256_P &&
    (y * y - (x * x * x - 3n * x + P256_B)) % P256_P === 0n;
  if (!fits) {
    throw new JwkError(
      "not_on_curve",
      "Cannot register the JWK: its point (x, y) is not on the curve P-256",
    );
  }
  return jwk;
}

function bigIntOf(bytes: Uint8Array): bigint {
  return bytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

function algorithmsOf(jwk: PublicJwk, alg: unknown): ApiKeyAlgorithm[] {
  const allowed = ALGORITHMS_OF[jwk.kty];
  if (alg === undefined) return [...allowed];
  const match = allowed.find((algorithm) => algorithm === alg);
  if (match === undefined) {
    throw new JwkError(
      "wrong_algorithm",
      `Cannot register the JWK: algorithm ${describe(alg)} does not fit a ${jwk.kty} key (${
        allowed.join(", ")
      })`,
    );
  }
  return [match];
}

function rsaModulus(value: unknown): string {
  const bytes = base64urlBytes(value, "n");
  const bits = bitLength(bytes);
  if (bits < MIN_RSA_BITS) {
    throw new JwkError(
      "rsa_too_small",
      `Cannot register the JWK: its RSA modulus has ${bits} bits, fewer than ${MIN_RSA_BITS}`,
    );
  }
  if (bits > MAX_RSA_BITS) {
    throw new JwkError(
      "rsa_too_large",
      `Cannot register the JWK: its RSA modulus has ${bits} bits, more than ${MAX_RSA_BITS}`,
    );
  }
  return value as string;
}

function rsaExponent(value: unknown): string {
  const bytes = base64urlBytes(value, "e");
  const odd = (bytes.at(-1) ?? 0) % 2 === 1;
  if (bytes.length > 8 || bitLength(bytes) < 2 || !odd) {
    throw malformed("e", "an odd public exponent of at most 8 bytes");
  }
  return value as string;
}

function fixedLength(value: unknown, member: string, length: number): string {
  if (base64urlBytes(value, member).length !== length) {
    throw malformed(member, `${length} bytes`);
  }
  return value as string;
}

function base64urlBytes(value: unknown, member: string): Uint8Array {
  if (typeof value !== "string" || !BASE64URL.test(value) || value.length % 4 === 1) {
    throw malformed(member, "unpadded base64url");
  }
  const binary = atob(value.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

function bitLength(bytes: Uint8Array): number {
  const first = bytes.findIndex((byte) => byte !== 0);
  if (first === -1) return 0;
  return (bytes.length - first - 1) * 8 + bytes[first]!.toString(2).length;
}

function unsupportedCurve(crv: unknown): JwkError {
  return new JwkError(
    "unsupported_curve",
    `Cannot register the JWK: curve ${describe(crv)} is not P-256 (EC) or Ed25519 (OKP)`,
  );
}

function malformed(member: string, expected: string): JwkError {
  return new JwkError(
    "malformed_member",
    `Cannot register the JWK: member "${member}" is not ${expected}`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return "(none)";
  if (typeof value === "string") return `"${value.slice(0, 40)}"`;
  return `a ${typeof value}`;
}
