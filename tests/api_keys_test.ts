import { runVerify } from "./helpers/verify_cli.ts";
import assert from "node:assert/strict";
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { BOARD, boardUser, SUPPLIER, withService } from "./helpers/board_flow.ts";
import {
  type AxeViolation,
  axeViolations,
  describeViolations,
  launchChromium,
  screenshot,
  watchProblems,
} from "./helpers/browser.ts";
import { git } from "./helpers/git.ts";
import { commitTree, lastEvent, setMain, treeWith } from "./helpers/tamper.ts";
import { Browser, sampleOffer, type TestService } from "./helpers/service.ts";
import { historyGitDir, signingKeyFile } from "./helpers/test_store.ts";

const OTHER_SUPPLIER = "99000002";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A key pair as a supplier's software holds it, with its public JWK and thumbprint. */
interface ClientKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  thumbprint: string;
}

async function clientKey(alg = "ES256"): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk) };
}

/** A person of a supplier, logged in through the development broker, on the keys page. */
async function supplierPerson(
  service: TestService,
  kvk: string,
  name = "Sanne Bakker",
): Promise<Browser> {
  const browser = new Browser(service.url);
  assert.equal((await browser.login({ organisation: kvk, name, mandates: [] })).status, 303);
  assert.equal((await browser.page(`/suppliers/${kvk}/keys`)).status, 200);
  return browser;
}

async function register(person: Browser, jwk: unknown, label = "Productieserver") {
  return await person.submit(`/suppliers/${SUPPLIER}/keys`, {
    label,
    jwk: typeof jwk === "string" ? jwk : JSON.stringify(jwk),
  });
}

/** A client assertion with valid claims for {@link SUPPLIER}, overridden by `claims`. */
async function assertion(
  service: TestService,
  key: ClientKey,
  claims: JWTPayload = {},
  header: { alg?: string; kid?: string | null } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const kid = header.kid === undefined ? key.thumbprint : header.kid;
  return await new SignJWT({
    iss: SUPPLIER,
    sub: SUPPLIER,
    aud: `${service.url}/oauth/token`,
    iat: now,
    exp: now + 120,
    jti: crypto.randomUUID(),
    ...claims,
  }).setProtectedHeader({ alg: header.alg ?? "ES256", ...(kid === null ? {} : { kid }) })
    .sign(key.privateKey);
}

async function tokenRequest(
  service: TestService,
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${service.url}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

function exchange(service: TestService, jwt: string, clientId = SUPPLIER) {
  return tokenRequest(service, {
    grant_type: "client_credentials",
    client_id: clientId,
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: jwt,
  });
}

async function accessToken(service: TestService, key: ClientKey): Promise<string> {
  const { status, body } = await exchange(service, await assertion(service, key));
  assert.equal(status, 200, JSON.stringify(body));
  return String(body.access_token);
}

function offerWith(service: TestService, token: string, boards = [BOARD.id]) {
  return sampleOffer(boards).then((body) =>
    fetch(`${service.url}/api/v1/offers`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
  );
}

async function expectRefused(
  result: Promise<{ status: number; body: Record<string, unknown> }>,
  error: string,
  description?: RegExp,
) {
  const { status, body } = await result;
  assert.equal(body.error, error, JSON.stringify(body));
  assert.equal(status, error === "invalid_client" ? 401 : 400);
  assert.equal(typeof body.error_description, "string");
  assert.match(String(body.error_description), /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
  if (description) assert.match(String(body.error_description), description);
}

async function historyGit(service: TestService, args: string[]): Promise<string> {
  return await git(["--git-dir", await historyGitDir(service.dir), ...args]);
}

Deno.test("API keys: register a public key, get an access token with an assertion, offer", () =>
  withService(async (service) => {
    const person = await supplierPerson(service, SUPPLIER);
    const key = await clientKey();
    const registered = await register(person, key.publicJwk);
    assert.equal(registered.status, 303);
    assert.equal(
      registered.headers.get("Location"),
      `/suppliers/${SUPPLIER}/keys?geregistreerd=${key.thumbprint}`,
    );
    const page = await person.page(registered.headers.get("Location")!);
    assert.match(
      page.html,
      /Sleutel &quot;Productieserver&quot; is geregistreerd|Sleutel "Productieserver" is geregistreerd/,
    );
    assert.ok(page.html.includes(key.thumbprint), "the page lists the key by its thumbprint");
    assert.match(page.html, /ES256/);
    assert.match(page.html, /door Sanne Bakker/);

    const token = await exchange(service, await assertion(service, key));
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(token.body.token_type, "Bearer");
    assert.equal(token.body.expires_in, 300);
    assert.match(String(token.body.access_token), /^akc_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.headers.get("Cache-Control"), "no-store");

    const offered = await offerWith(service, String(token.body.access_token));
    assert.equal(offered.status, 201, await offered.clone().text());
    const trailers = await historyGit(service, ["log", "-1", "--format=%(trailers)"]);
    assert.match(trailers, new RegExp(`^Actor: api-key:${key.thumbprint}$`, "m"));
    assert.match(trailers, /^Assurance: api-key$/m);
    assert.match(trailers, /^Role: leverancier$/m);
    const author = await historyGit(service, ["log", "-1", "--format=%an"]);
    assert.equal(author.trim(), "Productieserver");

    const listed = await fetch(`${service.url}/api/v1/agreements/${BOARD.id}`, {
      headers: { Authorization: `Bearer ${token.body.access_token}` },
    });
    assert.equal(listed.status, 200);
    assert.equal((await listed.json()).supplier, SUPPLIER);

    const withoutKid = await exchange(service, await assertion(service, key, {}, { kid: null }));
    assert.equal(withoutKid.status, 200, "without kid every registered key is tried");
    const toIssuer = await exchange(service, await assertion(service, key, { aud: service.url }));
    assert.equal(toIssuer.status, 200, "the service's own address is an accepted audience");
    const noClientId = await tokenRequest(service, {
      grant_type: "client_credentials",
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(service, key),
    });
    assert.equal(noClientId.status, 200, "client_id may be left out (RFC 7521 §4.2)");
  }));

Deno.test("API keys: the token endpoint refuses every bad assertion", () =>
  withService(async (service) => {
    const person = await supplierPerson(service, SUPPLIER);
    const key = await clientKey();
    assert.equal((await register(person, key.publicJwk)).status, 303);
    const now = Math.floor(Date.now() / 1000);

    const once = await assertion(service, key);
    assert.equal((await exchange(service, once)).status, 200);
    await expectRefused(exchange(service, once), "invalid_client", /used before/);

    await expectRefused(
      exchange(service, await assertion(service, key, { iat: now - 400, exp: now - 100 })),
      "invalid_client",
      /expired/,
    );
    await expectRefused(
      exchange(service, await assertion(service, key, { exp: now + 600 })),
      "invalid_client",
      /at most 300/,
    );
    await expectRefused(
      exchange(service, await assertion(service, key, { iat: now + 300, exp: now + 400 })),
      "invalid_client",
      /iat/,
    );
    await expectRefused(
      exchange(service, await assertion(service, key, { aud: "https://elders.example/token" })),
      "invalid_client",
      /aud/,
    );
    await expectRefused(
      exchange(service, await assertion(service, key, { sub: OTHER_SUPPLIER })),
      "invalid_client",
      /sub/,
    );
    await expectRefused(
      exchange(service, await assertion(service, key, { iss: OTHER_SUPPLIER })),
      "invalid_client",
      /iss/,
    );
    await expectRefused(
      exchange(service, await assertion(service, key), OTHER_SUPPLIER),
      "invalid_client",
      /no registered, unrevoked key/,
    );
    await expectRefused(
      exchange(service, await assertion(service, key, { jti: undefined })),
      "invalid_client",
      /jti/,
    );

    const stranger = await clientKey();
    await expectRefused(
      exchange(service, await assertion(service, stranger, {}, { kid: null })),
      "invalid_client",
      /signature/,
    );
    await expectRefused(
      exchange(service, await assertion(service, stranger, {}, { kid: key.thumbprint })),
      "invalid_client",
      /signature/,
    );
    await expectRefused(
      exchange(service, await assertion(service, stranger)),
      "invalid_client",
      /kid/,
    );

    const payload = { iss: SUPPLIER, sub: SUPPLIER, aud: `${service.url}/oauth/token` };
    const unsigned = [
      base64url(JSON.stringify({ alg: "none", kid: key.thumbprint })),
      base64url(JSON.stringify({ ...payload, iat: now, exp: now + 60, jti: "none-1" })),
      "",
    ].join(".");
    await expectRefused(exchange(service, unsigned), "invalid_client", /algorithm/);
    const hmac = await new SignJWT({ ...payload, jti: "hs-1" }).setIssuedAt().setExpirationTime(
      "1m",
    ).setProtectedHeader({ alg: "HS256", kid: key.thumbprint }).sign(
      new TextEncoder().encode("a shared secret that is long enough for HS256"),
    );
    await expectRefused(exchange(service, hmac), "invalid_client", /algorithm/);
    await expectRefused(exchange(service, "not-a-jwt"), "invalid_client", /not a signed JWT/);

    const good = await assertion(service, key);
    await expectRefused(
      tokenRequest(service, { grant_type: "password", client_assertion: good }),
      "unsupported_grant_type",
    );
    await expectRefused(tokenRequest(service, { client_assertion: good }), "invalid_request");
    await expectRefused(
      tokenRequest(service, { grant_type: "client_credentials", client_id: SUPPLIER }),
      "invalid_client",
      /client_assertion/,
    );
    await expectRefused(
      tokenRequest(service, {
        grant_type: "client_credentials",
        client_assertion_type: "urn:example:other",
        client_assertion: good,
      }),
      "invalid_client",
      /client_assertion_type/,
    );
    const json = await fetch(`${service.url}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    assert.equal(json.status, 400);
    assert.equal((await json.json()).error, "invalid_request");
    const twice = new URLSearchParams({ grant_type: "client_credentials" });
    twice.append("grant_type", "client_credentials");
    const duplicated = await fetch(`${service.url}/oauth/token`, { method: "POST", body: twice });
    assert.equal((await duplicated.json()).error, "invalid_request");

    const forged = await fetch(`${service.url}/api/v1/agreements`, {
      headers: { Authorization: `Bearer akc_${"A".repeat(43)}` },
    });
    assert.equal(forged.status, 401);
    assert.equal((await forged.json()).type, "urn:akkoord:problem:token_invalid");
  }));

Deno.test("API keys: only public asymmetric keys of the right size are registered", () =>
  withService(async (service) => {
    const person = await supplierPerson(service, SUPPLIER);
    const before = (await historyGit(service, ["rev-parse", "HEAD"])).trim();
    const pair = await generateKeyPair("ES256", { extractable: true });

    const refused = async (jwk: unknown, message: RegExp) => {
      const response = await register(person, jwk);
      assert.equal(response.status, 422);
      const html = await response.text();
      assert.match(html, /De sleutel is niet geregistreerd/);
      assert.match(html, message);
      assert.match(html, /aria-invalid="true"/);
    };
    await refused(await exportJWK(pair.privateKey), /privésleutel/);
    await refused(
      { kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0" },
      /symmetrische sleutel/,
    );
    const small = await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    );
    await refused(await exportJWK(small.publicKey), /minstens 2048 bits/);
    await refused({ ...(await exportJWK(pair.publicKey)), crv: "P-384" }, /P-256/);
    await refused({ ...(await exportJWK(pair.publicKey)), alg: "RS256" }, /algoritme/);
    await refused("{ not json", /geen JSON/);
    await refused({ ...(await exportJWK(pair.publicKey)), x: "AAAA" }, /niet geldig/);
    const onCurve = await exportJWK(pair.publicKey);
    // At most three x have y = x on P-256; a fresh random key is not one of them.
    await refused({ ...onCurve, y: onCurve.x }, /ligt niet op de curve P-256/);
    assert.equal((await historyGit(service, ["rev-parse", "HEAD"])).trim(), before);

    const rsa = await clientKey("PS256");
    assert.equal((await register(person, rsa.publicJwk, "RSA-sleutel")).status, 303);
    const ed = await clientKey("EdDSA");
    assert.equal((await register(person, ed.publicJwk, "Ed25519-sleutel")).status, 303);
    assert.equal(
      (await exchange(service, await assertion(service, rsa, {}, { alg: "PS256" }))).status,
      200,
    );
    const pkcs1 = { ...rsa, privateKey: await importJWK(await exportJWK(rsa.privateKey), "RS256") };
    const rs256 = await assertion(service, pkcs1 as ClientKey, {}, { alg: "RS256" });
    assert.equal((await exchange(service, rs256)).status, 200);
    assert.equal(
      (await exchange(service, await assertion(service, ed, {}, { alg: "EdDSA" }))).status,
      200,
    );
    const again = await register(person, rsa.publicJwk, "Nog eens");
    assert.equal(again.status, 422);
    assert.match(await again.text(), /al geregistreerd/);
  }));

Deno.test("API keys: others cannot see or revoke a key; revoking it ends its tokens at once", () =>
  withService(async (service) => {
    const person = await supplierPerson(service, SUPPLIER);
    const key = await clientKey();
    assert.equal((await register(person, key.publicJwk)).status, 303);
    const token = await accessToken(service, key);

    const other = await supplierPerson(service, OTHER_SUPPLIER, "Piet Jansen");
    assert.equal((await other.page(`/suppliers/${SUPPLIER}/keys`)).status, 403);
    const ownPage = await other.page(`/suppliers/${OTHER_SUPPLIER}/keys`);
    assert.ok(!ownPage.html.includes(key.thumbprint));
    const theirRevoke = await other.submit(
      `/suppliers/${SUPPLIER}/keys/${key.thumbprint}/revoke`,
      {},
    );
    assert.equal(theirRevoke.status, 403);
    const theirOwnPath = await other.submit(
      `/suppliers/${OTHER_SUPPLIER}/keys/${key.thumbprint}/revoke`,
      {},
    );
    assert.equal(theirOwnPath.status, 404);
    const board = await boardUser(service, BOARD, ["beoordelen"]);
    assert.equal((await board.page(`/suppliers/${SUPPLIER}/keys`)).status, 403);
    const anonymous = await fetch(`${service.url}/suppliers/${SUPPLIER}/keys`);
    assert.equal(anonymous.status, 401);
    assert.equal((await offerWith(service, token)).status, 201, "the key still works");

    await person.page(`/suppliers/${SUPPLIER}/keys`);
    const forged = await person.request(`/suppliers/${SUPPLIER}/keys/${key.thumbprint}/revoke`, {
      method: "POST",
      body: new URLSearchParams({ _csrf: "wrong" }),
      headers: { Origin: service.url },
    });
    assert.equal(forged.status, 403, "the CSRF guard stands before revocation");
    const revoked = await person.submit(`/suppliers/${SUPPLIER}/keys/${key.thumbprint}/revoke`, {});
    assert.equal(revoked.status, 303);
    const page = await person.page(revoked.headers.get("Location")!);
    assert.match(page.html, /De sleutel is ingetrokken/);
    assert.match(page.html, /Ingetrokken op .* door Sanne Bakker/);

    const after = await fetch(`${service.url}/api/v1/agreements`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(after.status, 401);
    assert.match((await after.json()).detail, /revoked/);
    await expectRefused(
      exchange(service, await assertion(service, key)),
      "invalid_client",
      /no registered, unrevoked key/,
    );
    const reRegistered = await register(person, key.publicJwk);
    assert.equal(reRegistered.status, 422);
    assert.match(await reRegistered.text(), /eerder ingetrokken/);
  }));

Deno.test("API keys: registrations and revocations are events; deno task verify accepts them and catches forgeries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-api-keys-" });
  try {
    await withService(async (service) => {
      const person = await supplierPerson(service, SUPPLIER);
      const key = await clientKey();
      assert.equal((await register(person, key.publicJwk)).status, 303);
      assert.equal((await offerWith(service, await accessToken(service, key))).status, 201);
      await person.page(`/suppliers/${SUPPLIER}/keys`);
      const revoked = await person.submit(
        `/suppliers/${SUPPLIER}/keys/${key.thumbprint}/revoke`,
        {},
      );
      assert.equal(revoked.status, 303);

      const path = `suppliers/${SUPPLIER}/api_keys/${key.thumbprint}.json`;
      const events = await historyGit(service, [
        "log",
        "--format=%(trailers:key=Event,valueonly)",
        "--",
        path,
      ]);
      assert.deepEqual(events.split("\n").filter(Boolean), [
        "api-key-revoked",
        "api-key-registered",
      ]);
      const trailers = await historyGit(service, ["log", "-1", "--format=%(trailers)", "--", path]);
      assert.match(trailers, new RegExp(`^Api-Key: ${SUPPLIER}/${key.thumbprint}$`, "m"));
      const record = JSON.parse(await historyGit(service, ["show", `HEAD:${path}`]));
      assert.deepEqual(record.jwk, {
        kty: "EC",
        crv: "P-256",
        x: key.publicJwk.x,
        y: key.publicJwk.y,
      });
      assert.equal(record.revoked.actor.name, "Sanne Bakker");
      assert.equal(record.registered.actor.role, "leverancier");

      const clone = `${dir}/history.git`;
      await git(["clone", "--bare", "--quiet", await historyGitDir(service.dir), clone]);
      const signers = `${dir}/allowed_signers`;
      await Deno.writeTextFile(
        signers,
        await (await fetch(`${service.url}/.well-known/akkoord/allowed_signers`)).text(),
      );
      const verified = await runVerify([clone, "--allowed-signers", signers]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /api-key-registered 1/);
      assert.match(verified.stdout, /api-key-revoked 1/);

      const realKey = await signingKeyFile(service.dir);
      const head = (await git(["--git-dir", clone, "rev-parse", "HEAD"])).trim();
      const offerCommit = await lastEvent(clone, "offered", /Actor: api-key:/);
      const afterRevocation = await commitTree(clone, {
        tree: await treeWith(clone, head, {
          [`agreements/${BOARD.id}/${SUPPLIER}/status.json`]: "{}\n",
        }),
        parent: head,
        message: await git(["--git-dir", clone, "log", "-1", "--format=%B", offerCommit]),
        key: realKey,
      });
      await setMain(clone, afterRevocation);
      const late = await runVerify([clone, "--allowed-signers", signers]);
      assert.equal(late.code, 1, late.stdout);
      assert.match(late.stderr, /event offered.*API key ".{43}" after it was revoked/);

      const secret = await clientKey();
      const privateJwk = await exportJWK(secret.privateKey);
      const withPrivate = await commitTree(clone, {
        tree: await treeWith(clone, head, {
          [`suppliers/${SUPPLIER}/api_keys/${secret.thumbprint}.json`]: JSON.stringify({
            ...record,
            thumbprint: secret.thumbprint,
            jwk: privateJwk,
            revoked: undefined,
          }),
        }),
        parent: head,
        message: (await git([
          "--git-dir",
          clone,
          "log",
          "-1",
          "--format=%B",
          await lastEvent(clone, "api-key-registered"),
        ])).replaceAll(key.thumbprint, secret.thumbprint),
        key: realKey,
      });
      await setMain(clone, withPrivate);
      const leaked = await runVerify([clone, "--allowed-signers", signers]);
      assert.equal(leaked.code, 1, leaked.stdout);
      assert.match(leaked.stderr, /does not hold an acceptable public key: .*private key member/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("in Chromium: the API keys page registers and revokes by keyboard and passes axe-core", () =>
  withService(async (service) => {
    const chromium = await launchChromium();
    try {
      // The CSP forbids the inline script axe is injected with.
      const context = await chromium.newContext({ bypassCSP: true, locale: "nl-NL" });
      const page = await context.newPage();
      const problems = watchProblems(page);
      const violations: Record<string, AxeViolation[]> = {};
      await page.goto(`${service.url}/login`);
      await page.getByLabel("Organisatie").selectOption(SUPPLIER);
      await page.getByLabel("Uw naam").fill("Sanne Bakker");
      await page.getByRole("button", { name: "Inloggen" }).click();
      await page.waitForURL(new RegExp(`/suppliers/${SUPPLIER}$`));
      await page.getByRole("link", { name: "API-sleutels" }).click();
      await page.waitForURL(new RegExp(`/suppliers/${SUPPLIER}/keys$`));
      violations.empty = await axeViolations(page);

      const key = await clientKey();
      await page.getByLabel("Naam van de sleutel").fill("Productieserver");
      await page.getByLabel("Publieke sleutel als JWK (JSON)").fill(
        JSON.stringify({ kty: "oct", k: "c2VjcmV0" }),
      );
      await page.getByRole("button", { name: "Sleutel registreren" }).click();
      await page.getByRole("alert").waitFor();
      assert.match(await page.getByRole("alert").innerText(), /symmetrische sleutel/);
      await screenshot(page, "api_keys_refused");
      violations.refused = await axeViolations(page);

      await page.getByLabel("Publieke sleutel als JWK (JSON)").fill(JSON.stringify(key.publicJwk));
      await page.getByLabel("Publieke sleutel als JWK (JSON)").press("Tab");
      await page.keyboard.press("Enter");
      await page.getByRole("status").waitFor();
      const row = page.getByRole("row", { name: /Productieserver/ });
      assert.ok((await row.innerText()).includes(key.thumbprint));
      await screenshot(page, "api_keys_listed");
      violations.listed = await axeViolations(page);

      await row.getByRole("button", { name: "Intrekken van sleutel Productieserver" }).click();
      await page.getByText(/Ingetrokken op/).waitFor();
      violations.revoked = await axeViolations(page);

      assert.deepEqual(problems, [], "no script errors, CSP refusals or failed assets");
      assert.equal(
        Object.values(violations).flat().length,
        0,
        `axe-core found violations:\n${describeViolations(violations)}`,
      );
    } finally {
      await chromium.close();
    }
  }));

function base64url(text: string): string {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
