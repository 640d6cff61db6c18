import assert from "node:assert/strict";
import { exportJWK, exportSPKI, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import { ConfigError, readConfig } from "../config.ts";
import {
  AuthError,
  createTokenVerifier,
  DEFAULT_CLAIM_NAMES,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "../routes/token_verifier.ts";
import {
  createTestKey,
  encodeSegment,
  type JwksServer,
  signToken,
  startJwksServer,
  TEST_SERVICES,
  type TestKey,
} from "./helpers/jwks_server.ts";
import { BOARD } from "./helpers/board_flow.ts";
import { Browser, startTestService } from "./helpers/service.ts";

const ISSUER = "https://broker.test/oidc";
const AUDIENCE = "akkoord";
const START = new Date("2026-03-02T10:00:00Z").getTime();
const ORGANISATION = "urn:etoegang:core:LegalSubjectID";
const SERVICE_IDS = "urn:etoegang:core:ServiceID";

const SERVICES = TEST_SERVICES;

/** A verifier over a JWKS server, with a clock the test moves. */
class Rig {
  clock = START;
  readonly server: JwksServer;
  readonly verifier: TokenVerifier;
  readonly base: TokenVerifierOptions;

  constructor(keys: TestKey[], options: Partial<TokenVerifierOptions> = {}) {
    this.server = startJwksServer(keys.map((key) => key.publicJwk));
    this.base = {
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: this.server.url,
      services: SERVICES,
      currentDate: () => new Date(this.clock),
      ...options,
    };
    this.verifier = createTokenVerifier(this.base);
  }

  /** Another verifier on the same JWKS server and clock. */
  with(options: Partial<TokenVerifierOptions>): TokenVerifier {
    return createTokenVerifier({ ...this.base, ...options });
  }

  get seconds(): number {
    return Math.floor(this.clock / 1000);
  }

  claims(extra: JWTPayload = {}): JWTPayload {
    const now = this.seconds;
    return {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: "pseudonym-anna",
      iat: now - 5,
      nbf: now - 5,
      exp: now + 600,
      name: "Anna de Vries",
      acr: "urn:etoegang:core:assurance-class:loa3",
      [ORGANISATION]: "01234567",
      "urn:etoegang:core:ActingSubjectID": "pseudonym-anna",
      [SERVICE_IDS]: [SERVICES.beoordelen],
      ...extra,
    };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
  return "accepted";
}

async function errorOf(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error("expected the token to be refused");
}

/**
 * Signs any header and payload with WebCrypto, for tokens jose will not
 * produce; a string payload is signed as it is, not as JSON.
 */
async function rawToken(
  key: TestKey,
  header: Record<string, unknown>,
  claims: JWTPayload | string,
): Promise<string> {
  const payload = typeof claims === "string"
    ? base64url(new TextEncoder().encode(claims))
    : encodeSegment(claims);
  const input = `${encodeSegment(header)}.${payload}`;
  const algorithm = key.alg === "ES256"
    ? { name: "ECDSA", hash: "SHA-256" }
    : { name: "RSASSA-PKCS1-v1_5" };
  const signature = await crypto.subtle.sign(
    algorithm,
    key.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A server that should never be asked anything: it counts what it is asked. */
function startAttackerServer(keys: TestKey[]): { origin: string; requests: () => number } & {
  close(): Promise<void>;
} {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return Response.json({ keys: keys.map((key) => key.publicJwk) });
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests: () => requests,
    close: () => server.shutdown(),
  };
}

/** A userinfo endpoint whose answer each test sets; it records the Authorization headers. */
function startUserinfoServer(): {
  url: string;
  authorizations: string[];
  answer: () => Response;
  close(): Promise<void>;
} {
  const state = {
    url: "",
    authorizations: [] as string[],
    answer: (): Response => Response.json({}),
    close: async () => {},
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    state.authorizations.push(request.headers.get("authorization") ?? "");
    return state.answer();
  });
  state.url = `http://127.0.0.1:${server.addr.port}/userinfo`;
  state.close = () => server.shutdown();
  return state;
}

Deno.test("forged and malformed tokens are refused", async (t) => {
  const key = await createTestKey("ES256", "key-1");
  const rsaKey = await createTestKey("RS256", "key-rsa");
  const attackerKey = await createTestKey("ES256", "key-1");
  const rig = new Rig([key, rsaKey]);
  const attacker = startAttackerServer([attackerKey]);
  const { verifier } = rig;
  const sign = (claims: JWTPayload, header: Record<string, unknown> = {}) =>
    signToken(key, claims, header);

  try {
    await t.step("alg none in any letter case, without asking for keys", async () => {
      for (const alg of ["none", "None", "NONE", "nOnE"]) {
        const token = `${encodeSegment({ alg, typ: "JWT" })}.${encodeSegment(rig.claims())}.`;
        const error = await errorOf(verifier.verify(token));
        assert.equal(error.code, "token_bad_algorithm", alg);
        assert.match(error.message, new RegExp(`"${alg}"`));
      }
      assert.equal(rig.server.requests, 0, "a refused header costs no JWKS fetch");
    });

    await t.step("HS256 signed with the broker's public key as secret", async () => {
      const publicKey = await importJWK(rsaKey.publicJwk, "RS256");
      assert.ok(publicKey instanceof CryptoKey);
      const secrets = [
        await exportSPKI(publicKey),
        JSON.stringify(await exportJWK(publicKey)),
      ];
      for (const secret of secrets) {
        for (const alg of ["HS256", "HS384", "HS512"]) {
          const token = await new SignJWT(rig.claims())
            .setProtectedHeader({ alg, kid: rsaKey.kid, typ: "JWT" })
            .sign(new TextEncoder().encode(secret));
          assert.equal(await codeOf(verifier.verify(token)), "token_bad_algorithm", alg);
        }
      }
    });

    await t.step("asymmetric algorithms that are not on the allow-list", async () => {
      const esOnly = rig.with({ algorithms: ["ES256"] });
      const rs = await signToken(rsaKey, rig.claims());
      assert.equal(await codeOf(esOnly.verify(rs)), "token_bad_algorithm");
      assert.equal(await codeOf(verifier.verify(rs)), "accepted");
      const es384 = await createTestKey("ES384", "key-384");
      const token = await signToken(es384, rig.claims());
      assert.equal(await codeOf(verifier.verify(token)), "token_bad_algorithm");
    });

    await t.step("a kid the broker never published", async () => {
      const stranger = await createTestKey("ES256", "key-unknown");
      const error = await errorOf(verifier.verify(await signToken(stranger, rig.claims())));
      assert.equal(error.code, "token_bad_signature");
    });

    await t.step("jku and x5u are never fetched; their keys do not count", async () => {
      const jku = `${attacker.origin}/jwks`;
      const sameKid = await signToken(attackerKey, rig.claims(), { jku });
      assert.equal(await codeOf(verifier.verify(sameKid)), "token_bad_signature");
      const evil = await createTestKey("ES256", "evil-kid");
      const ownKid = await signToken(evil, rig.claims(), { jku: `${attacker.origin}/evil` });
      assert.equal(await codeOf(verifier.verify(ownKid)), "token_bad_signature");
      const x5u = await signToken(evil, rig.claims(), { x5u: `${attacker.origin}/cert.pem` });
      assert.equal(await codeOf(verifier.verify(x5u)), "token_bad_signature");
      assert.equal(attacker.requests(), 0, "the attacker's server got no request");
    });

    await t.step("an embedded jwk or x5c does not count", async () => {
      const evil = await createTestKey("ES256", "evil-embedded");
      const embedded = await signToken(evil, rig.claims(), { jwk: evil.publicJwk });
      assert.equal(await codeOf(verifier.verify(embedded)), "token_bad_signature");
      const underOurKid = await signToken(attackerKey, rig.claims(), {
        jwk: attackerKey.publicJwk,
      });
      assert.equal(await codeOf(verifier.verify(underOurKid)), "token_bad_signature");
      const x5c = await signToken(evil, rig.claims(), { x5c: ["MIIBszCCAVmgAwIBAgIUQ0VydA=="] });
      assert.equal(await codeOf(verifier.verify(x5c)), "token_bad_signature");
    });

    await t.step("those headers are ignored, not trusted, on a genuine token", async () => {
      const token = await sign(rig.claims(), { jku: `${attacker.origin}/jwks` });
      assert.equal((await verifier.verify(token)).organisation, "01234567");
      assert.equal(attacker.requests(), 0);
    });

    await t.step("any crit header, even one jose knows", async () => {
      const claims = rig.claims();
      const header = { alg: "ES256", kid: key.kid, typ: "JWT" };
      assert.equal(await codeOf(verifier.verify(await rawToken(key, header, claims))), "accepted");
      for (
        const extra of [
          { crit: ["exp"], exp: claims.exp },
          { crit: ["b64"], b64: true },
          { crit: ["urn:example:unknown"], "urn:example:unknown": 1 },
          { crit: [] },
        ]
      ) {
        const token = await rawToken(key, { ...header, ...extra }, claims);
        const error = await errorOf(verifier.verify(token));
        assert.equal(error.code, "token_invalid", JSON.stringify(extra));
        assert.match(error.message, /crit/);
      }
    });

    await t.step("typ must fit the kind of token", async () => {
      const claims = rig.claims({ nonce: "n-1" });
      const asIdToken = (typ: string | undefined) =>
        sign(claims, { typ }).then((token) => verifier.verify(token, { nonce: "n-1" }));
      const asAccessToken = (typ: string | undefined) =>
        sign(claims, { typ }).then((token) => verifier.verify(token));
      for (const typ of [undefined, "JWT", "jwt", "application/jwt"]) {
        assert.equal(await codeOf(asIdToken(typ)), "accepted", `ID token typ ${typ}`);
      }
      for (const typ of ["at+jwt", "application/at+jwt", "JOSE", "secevent+jwt"]) {
        assert.equal(await codeOf(asIdToken(typ)), "token_invalid", `ID token typ ${typ}`);
      }
      for (const typ of [undefined, "JWT", "at+jwt", "application/at+JWT"]) {
        assert.equal(await codeOf(asAccessToken(typ)), "accepted", `access token typ ${typ}`);
      }
      for (const typ of ["JOSE", "logout+jwt"]) {
        assert.equal(await codeOf(asAccessToken(typ)), "token_invalid", `access token typ ${typ}`);
      }
    });

    await t.step("expired, and issued or valid only in the future", async () => {
      const now = rig.seconds;
      const cases: Array<[JWTPayload, string]> = [
        [{ exp: now - 31 }, "token_expired"],
        [{ exp: now - 29 }, "accepted"],
        [{ iat: now + 31 }, "token_not_yet_valid"],
        [{ iat: now + 29 }, "accepted"],
        [{ nbf: now + 31 }, "token_not_yet_valid"],
        [{ nbf: now + 29 }, "accepted"],
      ];
      for (const [claims, expected] of cases) {
        const token = await sign(rig.claims(claims));
        assert.equal(await codeOf(verifier.verify(token)), expected, JSON.stringify(claims));
        const idToken = await sign(rig.claims({ ...claims, nonce: "n" }));
        assert.equal(
          await codeOf(verifier.verify(idToken, { nonce: "n" })),
          expected,
          `ID token ${JSON.stringify(claims)}`,
        );
      }
    });

    await t.step("an ID token older than ten minutes at login", async () => {
      const now = rig.seconds;
      const old = await sign(rig.claims({ iat: now - 700, nbf: now - 700, nonce: "n" }));
      assert.equal(await codeOf(verifier.verify(old, { nonce: "n" })), "token_expired");
      assert.equal(await codeOf(verifier.verify(old)), "accepted", "no age limit on API tokens");
      const recent = await sign(rig.claims({ iat: now - 620, nbf: now - 620, nonce: "n" }));
      assert.equal(await codeOf(verifier.verify(recent, { nonce: "n" })), "accepted");
      const shorter = rig.with({ maxIdTokenAgeSeconds: 60 });
      assert.equal(await codeOf(shorter.verify(recent, { nonce: "n" })), "token_expired");
    });

    await t.step("wrong audience, issuer and authorised party", async () => {
      const cases: Array<[JWTPayload, string]> = [
        [{ aud: "someone-else" }, "token_wrong_audience"],
        [{ aud: [] }, "token_wrong_audience"],
        [{ iss: "https://evil.test/oidc" }, "token_wrong_issuer"],
        [{ iss: `${ISSUER}/` }, "token_wrong_issuer"],
        [{ aud: [AUDIENCE, "other-client"] }, "token_wrong_audience"],
        [{ aud: [AUDIENCE, "other-client"], azp: "other-client" }, "token_wrong_audience"],
        [{ aud: [AUDIENCE, "other-client"], azp: AUDIENCE }, "accepted"],
        [{ aud: [AUDIENCE] }, "accepted"],
        [{ azp: "other-client" }, "token_wrong_audience"],
        [{ azp: AUDIENCE }, "accepted"],
      ];
      for (const [claims, expected] of cases) {
        const token = await sign(rig.claims(claims));
        assert.equal(await codeOf(verifier.verify(token)), expected, JSON.stringify(claims));
      }
    });

    await t.step("nonce missing or wrong on an ID token", async () => {
      const without = await sign(rig.claims());
      assert.equal(await codeOf(verifier.verify(without, { nonce: "n-1" })), "token_invalid");
      const other = await sign(rig.claims({ nonce: "n-2" }));
      assert.equal(await codeOf(verifier.verify(other, { nonce: "n-1" })), "token_invalid");
    });

    await t.step("missing claims", async () => {
      const cases: Array<[string, boolean]> = [
        ["exp", false],
        ["iat", false],
        ["acr", false],
        [ORGANISATION, false],
        ["sub", true],
      ];
      for (const [claim, idTokenOnly] of cases) {
        const claims = rig.claims({ nonce: "n" });
        delete claims[claim];
        const token = await sign(claims);
        assert.equal(await codeOf(verifier.verify(token, { nonce: "n" })), "claims_missing", claim);
        if (!idTokenOnly) {
          assert.equal(await codeOf(verifier.verify(token)), "claims_missing", claim);
        }
      }
    });

    await t.step("assurance too low, and no mandate at login", async () => {
      const low = rig.claims({ acr: "urn:etoegang:core:assurance-class:loa2plus", nonce: "n" });
      const login = (claims: JWTPayload) =>
        sign(claims).then((idToken) => verifier.verifyLogin({ idToken, nonce: "n" }));
      assert.equal(await codeOf(login(low)), "assurance_too_low");
      const strict = rig.with({ minAssurance: "loa4" });
      const loa3 = await sign(rig.claims({ nonce: "n" }));
      assert.equal(
        await codeOf(strict.verifyLogin({ idToken: loa3, nonce: "n" })),
        "assurance_too_low",
      );

      for (const services of [[], ["urn:etoegang:DV:00000009999999990000:services:1"]]) {
        const claims = rig.claims({ [SERVICE_IDS]: services, nonce: "n" });
        const error = await errorOf(login(claims));
        assert.equal(error.code, "mandate_missing", JSON.stringify(services));
        const principal = await verifier.verify(await sign(claims));
        assert.deepEqual(
          [principal.mandates, principal.supplier],
          [[], false],
          "an API token without roles maps to a principal without roles",
        );
      }
      const noClaim = rig.claims({ nonce: "n" });
      delete noClaim[SERVICE_IDS];
      assert.equal(await codeOf(login(noClaim)), "mandate_missing");
      const nonOperator = rig.claims({ [SERVICE_IDS]: SERVICES.beheer, nonce: "n" });
      const principal = await verifier.verifyLogin({
        idToken: await sign(nonOperator),
        nonce: "n",
      });
      assert.equal(principal.admin, false, "one of our ServiceIDs lets the login in, not the role");
    });

    await t.step("JWE and broken tokens", async () => {
      const cases = [
        "a.b.c.d.e",
        "only-one-part",
        "a.b",
        `${encodeSegment("text")}.${encodeSegment({})}.sig`,
        `!!!.${encodeSegment(rig.claims())}.sig`,
        await rawToken(key, { alg: "ES256", kid: key.kid }, "not json"),
        await rawToken(key, { alg: "ES256", kid: key.kid }, "[1]"),
      ];
      for (const token of cases) {
        assert.equal(await codeOf(verifier.verify(token)), "token_invalid", token);
      }
      const unsigned = `${encodeSegment({ alg: "ES256", kid: key.kid })}.not-json.c2ln`;
      assert.equal(await codeOf(verifier.verify(unsigned)), "token_bad_signature");
    });
  } finally {
    await attacker.close();
    await rig.close();
  }
});

Deno.test("a JWKS with two keys under one kid is refused as ambiguous", async () => {
  const first = await createTestKey("ES256", "dup");
  const second = await createTestKey("ES256", "dup");
  const rig = new Rig([first, second]);
  try {
    for (const key of [first, second]) {
      const error = await errorOf(rig.verifier.verify(await signToken(key, rig.claims())));
      assert.equal(error.code, "token_bad_signature");
      assert.match(error.message, /several keys/);
    }
  } finally {
    await rig.close();
  }

  const ec = await createTestKey("ES256", "shared");
  const rsa = await createTestKey("RS256", "shared");
  const mixed = new Rig([ec, rsa]);
  try {
    for (const key of [ec, rsa]) {
      const token = await signToken(key, mixed.claims());
      assert.equal(await codeOf(mixed.verifier.verify(token)), "accepted", key.alg);
    }
  } finally {
    await mixed.close();
  }
});

Deno.test("a flood of unknown kids makes at most one JWKS request per cooldown", async () => {
  const key = await createTestKey("ES256", "key-1");
  const rig = new Rig([key]);
  const bogus = async () => {
    const kid = base64url(crypto.getRandomValues(new Uint8Array(12)));
    return await signToken({ ...key, kid }, rig.claims());
  };
  const flood = async (concurrent: boolean) => {
    const tokens = await Promise.all(Array.from({ length: 100 }, bogus));
    const codes = concurrent
      ? await Promise.all(tokens.map((token) => codeOf(rig.verifier.verify(token))))
      : [];
    if (!concurrent) {
      for (const token of tokens) codes.push(await codeOf(rig.verifier.verify(token)));
    }
    assert.deepEqual(new Set(codes), new Set(["token_bad_signature"]));
  };
  try {
    assert.equal(await codeOf(rig.verifier.verify(await signToken(key, rig.claims()))), "accepted");
    assert.equal(rig.server.requests, 1);
    await flood(true);
    assert.equal(rig.server.requests, 1, "within the cooldown of the first fetch: none");

    rig.clock += 61_000;
    await flood(true);
    assert.equal(rig.server.requests, 2, "after the cooldown: exactly one, for 100 tokens at once");
    await flood(false);
    assert.equal(rig.server.requests, 2, "and none for 100 more one by one");

    rig.clock += 61_000;
    await flood(false);
    assert.equal(rig.server.requests, 3);
    assert.equal(await codeOf(rig.verifier.verify(await signToken(key, rig.claims()))), "accepted");
    assert.equal(rig.server.requests, 3, "known keys are served from the cache");
  } finally {
    await rig.close();
  }
});

Deno.test("a cold cache shares one fetch between concurrent tokens", async () => {
  const key = await createTestKey("ES256", "key-1");
  const rig = new Rig([key]);
  try {
    const good = await signToken(key, rig.claims());
    const forged = await signToken({ ...key, kid: "nope" }, rig.claims());
    const codes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => codeOf(rig.verifier.verify(i % 2 ? good : forged))),
    );
    assert.deepEqual(new Set(codes), new Set(["accepted", "token_bad_signature"]));
    assert.equal(rig.server.requests, 1);
  } finally {
    await rig.close();
  }
});

Deno.test("key rotation at the broker", async () => {
  const oldKey = await createTestKey("ES256", "2026-01");
  const newKey = await createTestKey("ES256", "2026-03");
  const rig = new Rig([oldKey]);
  const verify = async (key: TestKey) =>
    await codeOf(rig.verifier.verify(await signToken(key, rig.claims())));
  try {
    assert.equal(await verify(oldKey), "accepted");
    rig.server.setKeys([oldKey.publicJwk, newKey.publicJwk]);
    assert.equal(await verify(newKey), "token_bad_signature", "still cooling down");
    assert.equal(rig.server.requests, 1);

    rig.clock += 61_000;
    assert.equal(await verify(newKey), "accepted", "a new kid after the cooldown is fetched");
    assert.equal(rig.server.requests, 2);
    assert.equal(await verify(oldKey), "accepted");

    rig.server.setKeys([newKey.publicJwk]);
    assert.equal(await verify(oldKey), "accepted", "the old key lives until the cache expires");
    rig.clock += 600_000;
    assert.equal(await verify(oldKey), "token_bad_signature", "a withdrawn key stops counting");
    assert.equal(rig.server.requests, 3, "one fetch for the expired cache, none for the kid");
    assert.equal(await verify(newKey), "accepted");
    assert.equal(rig.server.requests, 3);
  } finally {
    await rig.close();
  }
});

Deno.test("an unreachable or broken JWKS is keys_unavailable, and retried once per cooldown", async () => {
  const key = await createTestKey("ES256", "key-1");
  const rig = new Rig([key]);
  const verify = async () => await codeOf(rig.verifier.verify(await signToken(key, rig.claims())));
  try {
    rig.server.setStatus(500);
    for (let i = 0; i < 10; i++) assert.equal(await verify(), "keys_unavailable");
    assert.equal(rig.server.requests, 1, "a failing broker is not hammered");
    rig.clock += 61_000;
    rig.server.setStatus(200);
    assert.equal(await verify(), "accepted");
    assert.equal(rig.server.requests, 2);
  } finally {
    await rig.close();
  }

  const privateJwk = await exportJWK(key.privateKey);
  const notAKeySet = "nonsense" as unknown as JWK[];
  for (const keys of [[{ ...privateJwk, kid: "key-1", alg: "ES256" }], notAKeySet]) {
    const broken = new Rig([]);
    broken.server.setKeys(keys);
    try {
      const token = await signToken(key, broken.claims());
      assert.equal(await codeOf(broken.verifier.verify(token)), "keys_unavailable");
    } finally {
      await broken.close();
    }
  }
});

Deno.test("claims from the userinfo endpoint", async (t) => {
  const key = await createTestKey("ES256", "key-1");
  const rig = new Rig([key]);
  const userinfo = startUserinfoServer();
  const minimal = () => {
    const now = rig.seconds;
    return { iss: ISSUER, aud: AUDIENCE, sub: "pseudonym-anna", iat: now, exp: now + 300 };
  };
  const identity = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    sub: "pseudonym-anna",
    name: "Anna de Vries",
    acr: "urn:etoegang:core:assurance-class:loa3",
    [ORGANISATION]: "01234567",
    "urn:etoegang:core:ActingSubjectID": "pseudonym-anna",
    [SERVICE_IDS]: [SERVICES.ondertekenen],
    ...extra,
  });
  const login = async (
    claims: JWTPayload,
    verifier: TokenVerifier = rig.verifier,
    endpoint: string | null = userinfo.url,
  ) =>
    await verifier.verifyLogin({
      idToken: await signToken(key, { ...claims, nonce: "n-1" }),
      nonce: "n-1",
      accessToken: "access-token-1",
      ...(endpoint === null ? {} : { userinfoEndpoint: endpoint }),
    });

  try {
    await t.step("a minimal ID token is completed from userinfo", async () => {
      userinfo.answer = () => Response.json(identity());
      const principal = await login(minimal());
      assert.deepEqual(
        [principal.organisation, principal.subject, principal.name, principal.mandates],
        ["01234567", "pseudonym-anna", "Anna de Vries", ["ondertekenen"]],
      );
      assert.deepEqual(userinfo.authorizations, ["Bearer access-token-1"]);
    });

    await t.step("userinfo about another subject, or none, is refused", async () => {
      for (const sub of ["pseudonym-bert", undefined, 42]) {
        userinfo.answer = () => Response.json(identity({ sub }));
        assert.equal(await codeOf(login(minimal())), "userinfo_mismatch", String(sub));
      }
    });

    await t.step("a failing or unreadable userinfo endpoint", async () => {
      const answers = [
        () => new Response("no", { status: 401 }),
        () => new Response("eyJ.eyJ.sig", { headers: { "content-type": "application/jwt" } }),
        () => new Response("[1,2]", { headers: { "content-type": "application/json" } }),
        () => new Response("{broken", { headers: { "content-type": "application/json" } }),
        () => Response.redirect("http://127.0.0.1:9/elsewhere", 302),
      ];
      for (const answer of answers) {
        userinfo.answer = answer;
        assert.equal(await codeOf(login(minimal())), "userinfo_unavailable");
      }
    });

    await t.step("claims still missing after userinfo", async () => {
      const partial = identity();
      delete partial[ORGANISATION];
      userinfo.answer = () => Response.json(partial);
      assert.equal(await codeOf(login(minimal())), "claims_missing");
    });

    await t.step("assurance and mandate are checked on the merged claims", async () => {
      userinfo.answer = () =>
        Response.json(identity({ acr: "urn:etoegang:core:assurance-class:loa2" }));
      assert.equal(await codeOf(login(minimal())), "assurance_too_low");
      userinfo.answer = () => Response.json(identity({ [SERVICE_IDS]: [] }));
      assert.equal(await codeOf(login(minimal())), "mandate_missing");
    });

    await t.step("a complete ID token needs no userinfo, unless configured", async () => {
      userinfo.authorizations.length = 0;
      userinfo.answer = () => Response.json(identity({ [ORGANISATION]: "07654321" }));
      const complete = rig.claims();
      assert.equal((await login(complete)).organisation, "01234567");
      assert.equal(userinfo.authorizations.length, 0);

      const always = rig.with({ userinfo: "always" });
      const principal = await login(complete, always);
      assert.equal(userinfo.authorizations.length, 1);
      assert.equal(principal.organisation, "01234567", "the signed ID token outranks userinfo");
      userinfo.answer = () => Response.json(identity({ sub: "someone-else" }));
      assert.equal(await codeOf(login(complete, always)), "userinfo_mismatch");
    });

    await t.step("without a userinfo endpoint", async () => {
      assert.equal(await codeOf(login(minimal(), rig.verifier, null)), "claims_missing");
      const always = rig.with({ userinfo: "always" });
      assert.equal(await codeOf(login(rig.claims(), always, null)), "userinfo_unavailable");
    });
  } finally {
    await userinfo.close();
    await rig.close();
  }
});

Deno.test("claim names and the organisation type are configurable", async (t) => {
  const key = await createTestKey("ES256", "key-1");
  const rig = new Rig([key]);
  const custom = rig.with({
    claims: {
      organisation: "kvk",
      organisationType: "org.type",
      actingSubject: "acting.subject",
      name: "urn:etoegang:1.11:attribute-represented:CompanyName",
      assurance: "level",
      serviceIds: "service_id",
    },
    assuranceAliases: { "http://eidas.europa.eu/LoA/substantial": "loa3" },
  });
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    ...rig.claims(),
    kvk: "00012345",
    "org.type": "urn:etoegang:1.9:EntityConcernedID:KvKnr",
    "acting.subject": "pseudo-flat",
    "urn:etoegang:1.11:attribute-represented:CompanyName": "Stichting Test",
    level: "http://eidas.europa.eu/LoA/substantial",
    service_id: SERVICES.leverancier,
    ...extra,
  });
  try {
    await t.step("every fact is read from its configured claim", async () => {
      const principal = await custom.verify(await signToken(key, claims()));
      assert.deepEqual(principal, {
        subject: "pseudo-flat",
        name: "Stichting Test",
        organisation: "00012345",
        assurance: "urn:etoegang:core:assurance-class:loa3",
        mandates: [],
        supplier: true,
        admin: false,
        auditor: false,
      });
      const nested = claims({ org: { type: "urn:etoegang:1.9:EntityConcernedID:RSIN" } });
      assert.equal(await codeOf(custom.verify(await signToken(key, nested))), "accepted");
    });

    await t.step("an RSIN is refused with its own code", async () => {
      const rsin = claims({
        kvk: "123456789",
        "org.type": "urn:etoegang:1.9:EntityConcernedID:RSIN",
      });
      const error = await errorOf(custom.verify(await signToken(key, rsin)));
      assert.equal(error.code, "organisation_unsupported");
      assert.match(error.message, /RSIN "123456789".*KvK number only/);
      const untyped = claims({ kvk: "123456789" });
      delete untyped["org.type"];
      assert.equal(
        await codeOf(custom.verify(await signToken(key, untyped))),
        "organisation_unsupported",
      );
    });

    await t.step("a qualifier that contradicts the number, or is unknown", async () => {
      const cases: Array<[JWTPayload, string]> = [
        [
          { kvk: "123456789", "org.type": "urn:etoegang:1.9:EntityConcernedID:KvKnr" },
          "token_invalid",
        ],
        [
          { kvk: "00012345", "org.type": "urn:etoegang:1.9:EntityConcernedID:RSIN" },
          "token_invalid",
        ],
        [{ "org.type": "urn:etoegang:1.9:EntityConcernedID:Vestigingsnr" }, "token_invalid"],
        [{ "org.type": 7 }, "token_invalid"],
      ];
      for (const [extra, expected] of cases) {
        const token = await signToken(key, claims(extra));
        assert.equal(await codeOf(custom.verify(token)), expected, JSON.stringify(extra));
      }
    });
  } finally {
    await rig.close();
  }
});

Deno.test("the claim mapping is read from the environment", () => {
  const defaults = readConfig({});
  assert.deepEqual(defaults.oidc.claims, DEFAULT_CLAIM_NAMES);
  assert.equal(defaults.oidc.userinfo, "when_needed");
  assert.deepEqual(defaults.oidc.assuranceAliases, {});

  const config = readConfig({
    AKKOORD_CLAIM_ORGANISATION: "kvk",
    AKKOORD_CLAIM_ORGANISATION_TYPE: "name_qualifier",
    AKKOORD_CLAIM_ACTING_SUBJECT: "actingSubjectID",
    AKKOORD_CLAIM_NAME: "urn:etoegang:1.11:attribute-represented:CompanyName",
    AKKOORD_CLAIM_ASSURANCE: "loa.level",
    AKKOORD_CLAIM_SERVICE_IDS: "service_uuid",
    AKKOORD_ASSURANCE_ALIASES:
      "http://eidas.europa.eu/LoA/substantial=loa3, http://eidas.europa.eu/LoA/high=loa4",
    AKKOORD_OIDC_USERINFO: "true",
  });
  assert.deepEqual(config.oidc.claims, {
    organisation: "kvk",
    organisationType: "name_qualifier",
    actingSubject: "actingSubjectID",
    name: "urn:etoegang:1.11:attribute-represented:CompanyName",
    assurance: "loa.level",
    serviceIds: "service_uuid",
  });
  assert.deepEqual(config.oidc.assuranceAliases, {
    "http://eidas.europa.eu/LoA/substantial": "loa3",
    "http://eidas.europa.eu/LoA/high": "loa4",
  });
  assert.equal(config.oidc.userinfo, "always");

  for (const aliases of ["substantial=loa5", "substantial", "=loa3", "a=loa3,b"]) {
    assert.throws(
      () => readConfig({ AKKOORD_ASSURANCE_ALIASES: aliases }),
      (error: unknown) =>
        error instanceof ConfigError && /AKKOORD_ASSURANCE_ALIASES/.test(error.message),
      aliases,
    );
  }
  assert.throws(() => readConfig({ AKKOORD_CLAIM_ORGANISATION: "  " }), ConfigError);
});

Deno.test("the service applies the configured claim names at login", async () => {
  const service = await startTestService({ AKKOORD_CLAIM_ORGANISATION: "kvk" });
  try {
    const browser = new Browser(service.url);
    const refused = await browser.login({
      organisation: BOARD.kvk,
      name: "Anna",
      mandates: ["beoordelen"],
    });
    assert.equal(refused.status, 401);
    assert.match(await refused.text(), /niet alle gegevens door/);
  } finally {
    await service.close();
  }
});
