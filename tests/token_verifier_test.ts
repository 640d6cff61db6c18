import assert from "node:assert/strict";
import { exportSPKI, importJWK, type JWTPayload, SignJWT } from "jose";
import {
  AuthError,
  bearerToken,
  createTokenVerifier,
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

const ISSUER = "https://broker.test/oidc";
const AUDIENCE = "akkoord";
const NOW = new Date("2026-03-02T10:00:00Z");
const NOW_SECONDS = NOW.getTime() / 1000;

const SERVICES = TEST_SERVICES;

function goodClaims(): JWTPayload {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "fallback-sub",
    iat: NOW_SECONDS - 5,
    nbf: NOW_SECONDS - 5,
    exp: NOW_SECONDS + 600,
    name: "Anna de Vries",
    acr: "urn:etoegang:core:assurance-class:loa3",
    "urn:etoegang:core:LegalSubjectID": "01234567",
    "urn:etoegang:core:ActingSubjectID": "pseudonym-anna",
    "urn:etoegang:core:ServiceID": [SERVICES.beoordelen, SERVICES.ondertekenen],
  };
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

Deno.test("token verifier against a JWKS served over HTTP", async (t) => {
  const key = await createTestKey("ES256", "key-1");
  const rsaKey = await createTestKey("RS256", "key-rsa");
  const impostor = await createTestKey("ES256", "key-1");
  const server: JwksServer = startJwksServer([key.publicJwk, rsaKey.publicJwk]);
  const base: TokenVerifierOptions = {
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUrl: server.url,
    services: SERVICES,
    currentDate: () => NOW,
  };
  const verifier = createTokenVerifier(base);

  function verifyWith(signer: TestKey, claims: JWTPayload): Promise<unknown> {
    return signToken(signer, claims).then((token) => verifier.verify(token));
  }

  try {
    await t.step("accepts a good token and maps it to a principal", async () => {
      const principal = await verifier.verify(await signToken(key, goodClaims()));
      assert.deepEqual(principal, {
        subject: "pseudonym-anna",
        name: "Anna de Vries",
        organisation: "01234567",
        assurance: "urn:etoegang:core:assurance-class:loa3",
        mandates: ["beoordelen", "ondertekenen"],
        supplier: false,
        admin: false,
        auditor: false,
      });
    });

    await t.step("accepts an RS256 token from the same key set", async () => {
      const principal = await verifier.verify(await signToken(rsaKey, goodClaims()));
      assert.equal(principal.organisation, "01234567");
    });

    await t.step("tolerates expiry within the leeway, refuses beyond it", async () => {
      const claims = { ...goodClaims(), exp: NOW_SECONDS - 20 };
      assert.equal(await codeOf(verifyWith(key, claims)), "accepted");
      const late = { ...goodClaims(), exp: NOW_SECONDS - 31 };
      assert.equal(await codeOf(verifyWith(key, late)), "token_expired");
    });

    await t.step("refuses a token that is not valid yet", async () => {
      const claims = { ...goodClaims(), nbf: NOW_SECONDS + 120 };
      assert.equal(await codeOf(verifyWith(key, claims)), "token_not_yet_valid");
    });

    await t.step("refuses a wrong audience and a wrong issuer", async () => {
      const audience = { ...goodClaims(), aud: "someone-else" };
      assert.equal(await codeOf(verifyWith(key, audience)), "token_wrong_audience");
      const issuer = { ...goodClaims(), iss: "https://evil.test" };
      assert.equal(await codeOf(verifyWith(key, issuer)), "token_wrong_issuer");
    });

    await t.step("refuses a token signed by another key under the same kid", async () => {
      assert.equal(await codeOf(verifyWith(impostor, goodClaims())), "token_bad_signature");
    });

    await t.step("refuses a token whose kid is not published", async () => {
      const stranger = await createTestKey("ES256", "key-unknown");
      assert.equal(await codeOf(verifyWith(stranger, goodClaims())), "token_bad_signature");
    });

    await t.step("refuses an unsigned token (alg none)", async () => {
      const token = `${encodeSegment({ alg: "none", typ: "JWT" })}.${encodeSegment(goodClaims())}.`;
      assert.equal(await codeOf(verifier.verify(token)), "token_bad_algorithm");
    });

    await t.step("refuses HS256 signed with the public key as secret", async () => {
      const secret = new TextEncoder().encode(await exportSPKI(await publicKeyOf(rsaKey)));
      const token = await new SignJWT(goodClaims())
        .setProtectedHeader({ alg: "HS256", kid: rsaKey.kid })
        .sign(secret);
      assert.equal(await codeOf(verifier.verify(token)), "token_bad_algorithm");
    });

    await t.step("refuses a token without an organisation", async () => {
      const claims = goodClaims();
      delete claims["urn:etoegang:core:LegalSubjectID"];
      assert.equal(await codeOf(verifyWith(key, claims)), "claims_missing");
    });

    await t.step("refuses a token without any acting subject", async () => {
      const claims = goodClaims();
      delete claims["urn:etoegang:core:ActingSubjectID"];
      delete claims.sub;
      assert.equal(await codeOf(verifyWith(key, claims)), "claims_missing");
    });

    await t.step("refuses KvK numbers that lost or gained digits", async () => {
      for (const kvk of ["1234567", 1234567, 12345678, "1234567890", " 1234567"]) {
        const claims = { ...goodClaims(), "urn:etoegang:core:LegalSubjectID": kvk };
        assert.equal(await codeOf(verifyWith(key, claims)), "token_invalid", String(kvk));
      }
      const nine = { ...goodClaims(), "urn:etoegang:core:LegalSubjectID": "123456789" };
      assert.equal(
        await codeOf(verifyWith(key, nine)),
        "organisation_unsupported",
        "nine digits are an RSIN, which the registry cannot match",
      );
    });

    await t.step("refuses loa2 when loa3 is required, accepts loa4", async () => {
      const low = { ...goodClaims(), acr: "urn:etoegang:core:assurance-class:loa2" };
      assert.equal(await codeOf(verifyWith(key, low)), "assurance_too_low");
      const high = { ...goodClaims(), acr: "urn:etoegang:core:assurance-class:loa4" };
      const principal = await verifier.verify(await signToken(key, high));
      assert.equal(principal.assurance, "urn:etoegang:core:assurance-class:loa4");
    });

    await t.step("refuses an unknown assurance value unless mapped", async () => {
      for (const acr of ["urn:etoegang:core:assurance-class:loa5", "substantial", 3]) {
        assert.equal(await codeOf(verifyWith(key, { ...goodClaims(), acr })), "token_invalid");
      }
      const mapping = createTokenVerifier({ ...base, assuranceAliases: { substantial: "loa3" } });
      const token = await signToken(key, { ...goodClaims(), acr: "substantial" });
      const principal = await mapping.verify(token);
      assert.equal(principal.assurance, "urn:etoegang:core:assurance-class:loa3");
    });

    await t.step("reads claim names with dots literally", async () => {
      const dotted = createTokenVerifier({
        ...base,
        claims: { organisation: "org.kvk", actingSubject: "acting.subject", serviceIds: "svc.id" },
      });
      const flat = {
        ...goodClaims(),
        "org.kvk": "00012345",
        "acting.subject": "pseudo-flat",
        "svc.id": SERVICES.ondertekenen,
      };
      const principal = await dotted.verify(await signToken(key, flat));
      assert.equal(principal.organisation, "00012345");
      assert.equal(principal.subject, "pseudo-flat");
      assert.deepEqual(principal.mandates, ["ondertekenen"]);

      const nested = { ...goodClaims(), org: { kvk: "00012345" } };
      assert.equal(await codeOf(dotted.verify(await signToken(key, nested))), "claims_missing");
    });

    await t.step("reads ServiceID as a string and as a list", async () => {
      const single = { ...goodClaims(), "urn:etoegang:core:ServiceID": SERVICES.beoordelen };
      const one = await verifier.verify(await signToken(key, single));
      assert.deepEqual([one.mandates, one.supplier, one.admin], [["beoordelen"], false, false]);

      const list = {
        ...goodClaims(),
        "urn:etoegang:core:ServiceID": [SERVICES.leverancier, SERVICES.beheer, "urn:other"],
      };
      const many = await verifier.verify(await signToken(key, list));
      assert.deepEqual(
        [many.mandates, many.supplier, many.admin],
        [[], true, false],
        "the beheer service alone does not make an admin",
      );
      const operated = createTokenVerifier({
        ...base,
        operators: { admin: ["01234567"], auditor: [] },
      });
      assert.equal((await operated.verify(await signToken(key, list))).admin, true);

      const bad = { ...goodClaims(), "urn:etoegang:core:ServiceID": [1, 2] };
      assert.equal(await codeOf(verifyWith(key, bad)), "token_invalid");
    });

    await t.step("checks the nonce when asked", async () => {
      const token = await signToken(key, { ...goodClaims(), nonce: "n-1" });
      assert.equal((await verifier.verify(token, { nonce: "n-1" })).subject, "pseudonym-anna");
      assert.equal(await codeOf(verifier.verify(token, { nonce: "n-2" })), "token_invalid");
    });

    await t.step("reports unreachable keys apart from bad tokens", async () => {
      const missing = createTokenVerifier({ ...base, jwksUrl: new URL("/gone", server.origin) });
      const token = await signToken(key, goodClaims());
      assert.equal(await codeOf(missing.verify(token)), "keys_unavailable");
    });

    await t.step("refuses garbage and empty tokens", async () => {
      assert.equal(await codeOf(verifier.verify("not.a.token")), "token_invalid");
      assert.equal(await codeOf(verifier.verify("")), "token_missing");
    });
  } finally {
    await server.close();
  }
});

Deno.test("token verifier refuses symmetric and unsigned algorithms in its configuration", () => {
  const base = {
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUrl: new URL("http://127.0.0.1:9/jwks"),
    services: SERVICES,
  };
  for (const algorithms of [["HS256"], ["ES256", "none"], ["RS256", "HS512"], []]) {
    assert.throws(() => createTokenVerifier({ ...base, algorithms }), /Cannot create/);
  }
  assert.doesNotThrow(() => createTokenVerifier({ ...base, algorithms: ["ES256", "EdDSA"] }));
});

Deno.test("bearerToken extracts the token or refuses with token_missing", () => {
  assert.equal(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
  assert.equal(bearerToken("bearer abc.def.ghi"), "abc.def.ghi");
  for (const header of [undefined, "", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer a b"]) {
    assert.throws(
      () => bearerToken(header),
      (error: unknown) => error instanceof AuthError && error.code === "token_missing",
    );
  }
});

async function publicKeyOf(key: TestKey): Promise<CryptoKey> {
  const imported = await importJWK(key.publicJwk, key.alg);
  if (!(imported instanceof CryptoKey)) throw new Error("expected a CryptoKey");
  return imported;
}
