import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

/** A signing key pair for tests, with its public JWK as a broker would publish it. */
export interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A JWKS endpoint served over HTTP on 127.0.0.1. */
export interface JwksServer {
  /** The JWKS URL. */
  url: URL;
  /** The server's origin, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  /** How many requests the server has answered, on any path. */
  readonly requests: number;
  /** Publishes other keys from now on, as a broker rotating its keys does. */
  setKeys(keys: JWK[]): void;
  /** Answers `/jwks` with this status and no key set (a broker outage), or normally with 200. */
  setStatus(status: number): void;
  close(): Promise<void>;
}

/** Generates a test key pair. */
export async function createTestKey(alg: string, kid: string): Promise<TestKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...await exportJWK(pair.publicKey), kid, alg, use: "sig" };
  return { alg, kid, privateKey: pair.privateKey, publicJwk };
}

/** Serves `{ keys }` at `/jwks` on a free port of 127.0.0.1, counting requests; other paths are 404. */
export function startJwksServer(keys: JWK[]): JwksServer {
  let published = keys;
  let status = 200;
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    requests++;
    if (new URL(request.url).pathname !== "/jwks") {
      return new Response("not found", { status: 404 });
    }
    if (status !== 200) return new Response("unavailable", { status });
    return Response.json({ keys: published }, {
      headers: { "content-type": "application/jwk-set+json" },
    });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: new URL("/jwks", origin),
    origin,
    get requests() {
      return requests;
    },
    setKeys(next) {
      published = next;
    },
    setStatus(next) {
      status = next;
    },
    close: () => server.shutdown(),
  };
}

/**
 * Signs claims with a test key, naming its kid and alg in the header; `header`
 * adds or overrides header parameters (`typ` defaults to `JWT`).
 */
export async function signToken(
  key: TestKey,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
    .sign(key.privateKey);
}

/** Base64url of a JSON value, for hand-built tokens. */
export function encodeSegment(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The eHerkenning ServiceIDs the verifier tests map to roles. */
export const TEST_SERVICES = {
  beoordelen: "urn:etoegang:DV:00000001234567890000:services:1",
  ondertekenen: "urn:etoegang:DV:00000001234567890000:services:2",
  leverancier: "urn:etoegang:DV:00000001234567890000:services:3",
  beheer: "urn:etoegang:DV:00000001234567890000:services:4",
  audit: "urn:etoegang:DV:00000001234567890000:services:5",
};
