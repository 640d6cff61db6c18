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
  close(): Promise<void>;
}

/** Generates a test key pair. */
export async function createTestKey(alg: string, kid: string): Promise<TestKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...await exportJWK(pair.publicKey), kid, alg, use: "sig" };
  return { alg, kid, privateKey: pair.privateKey, publicJwk };
}

/** Serves `{ keys }` at `/jwks` on a free port of 127.0.0.1; other paths are 404. */
export function startJwksServer(keys: JWK[]): JwksServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (new URL(request.url).pathname !== "/jwks") {
      return new Response("not found", { status: 404 });
    }
    return Response.json({ keys }, { headers: { "content-type": "application/jwk-set+json" } });
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return { url: new URL("/jwks", origin), origin, close: () => server.shutdown() };
}

/** Signs claims with a test key, naming its kid and alg in the header. */
export async function signToken(key: TestKey, claims: JWTPayload): Promise<string> {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .sign(key.privateKey);
}

/** Base64url of a JSON value, for hand-built tokens. */
export function encodeSegment(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
