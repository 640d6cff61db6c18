import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { BOARD, headOf, SUPPLIER, withService } from "./helpers/board_flow.ts";
import {
  brokerSignedToken,
  sampleOffer,
  supplierToken,
  type TestService,
} from "./helpers/service.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const BOARD_ID = BOARD.id;

async function post(
  service: TestService,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(`${service.url}/api/v1${path}`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}`,
      "Content-Type": "application/json",
      ...headers,
    },
    body,
  });
}

async function expectProblem(response: Response, status: number, type: string) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("Content-Type"), "application/problem+json");
  const body = await response.json();
  assert.equal(body.type, `urn:akkoord:problem:${type}`);
  assert.equal(body.status, status);
  assert.equal(typeof body.title, "string");
  return body;
}

Deno.test("API: an offer to several boards is one commit; reading the status per board", () =>
  withService(async (service) => {
    const before = await headOf(service);
    const response = await post(
      service,
      "/offers",
      JSON.stringify(await sampleOffer([BOARD_ID, "41282"])),
    );
    assert.equal(response.status, 201);
    const result = await response.json();
    assert.equal(result.agreements.length, 2);
    assert.match(result.oid, /^[0-9a-f]{40}$/);
    const log = await new Deno.Command("git", {
      args: ["--git-dir", await historyGitDir(service.dir), "rev-list", `${before}..HEAD`],
    }).output();
    assert.equal(new TextDecoder().decode(log.stdout).trim().split("\n").length, 1);

    const list = await fetch(`${service.url}/api/v1/agreements`, {
      headers: { Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}` },
    });
    const boards = (await list.json()).agreements.map((a: { board: string }) => a.board);
    assert.ok(boards.includes(BOARD_ID) && boards.includes("41282"));
  }));

Deno.test("API: offering identical content again changes nothing", () =>
  withService(async (service) => {
    const body = JSON.stringify(await sampleOffer([BOARD_ID]));
    assert.equal((await post(service, "/offers", body)).status, 201);
    const head = await headOf(service);
    const again = await post(service, "/offers", body);
    assert.equal(again.status, 200);
    assert.equal((await again.json()).agreements[0].outcome, "unchanged");
    assert.equal(await headOf(service), head);
  }));

Deno.test("API: an Idempotency-Key replays the first answer and refuses another body", () =>
  withService(async (service) => {
    const body = JSON.stringify(await sampleOffer([BOARD_ID]));
    const first = await post(service, "/offers", body, { "Idempotency-Key": "offer-1" });
    assert.equal(first.status, 201);
    const firstBody = await first.json();
    const head = await headOf(service);
    const retry = await post(service, "/offers", body, { "Idempotency-Key": "offer-1" });
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get("Idempotent-Replayed"), "true");
    assert.deepEqual(await retry.json(), firstBody);
    assert.equal(await headOf(service), head);
    const other = JSON.stringify(await sampleOffer([BOARD_ID], "Andere titel"));
    await expectProblem(
      await post(service, "/offers", other, { "Idempotency-Key": "offer-1" }),
      422,
      "idempotency_key_reused",
    );
  }));

Deno.test("API: malformed, oversized, unknown-field and invalid JSON get problem documents", () =>
  withService(async (service) => {
    const head = await headOf(service);
    await expectProblem(await post(service, "/offers", "{not json"), 400, "malformed_json");

    const huge = JSON.stringify({
      ...(await sampleOffer([BOARD_ID])),
      text: "x".repeat(3_000_000),
    });
    await expectProblem(await post(service, "/offers", huge), 413, "body_too_large");

    const unknown = JSON.stringify({ ...(await sampleOffer([BOARD_ID])), extra: true });
    const unknownProblem = await expectProblem(
      await post(service, "/offers", unknown),
      422,
      "validation_failed",
    );
    assert.ok(unknownProblem.errors.some((e: { detail: string }) => /extra/.test(e.detail)));

    const offer = await sampleOffer(["123", BOARD_ID]);
    (offer.products[0] as { supplier: { kvk: string } }).supplier.kvk = "1234567";
    const invalid = await expectProblem(
      await post(service, "/offers", JSON.stringify(offer)),
      422,
      "validation_failed",
    );
    const pointers = invalid.errors.map((e: { pointer: string }) => e.pointer);
    assert.ok(pointers.includes("/boards/0"));
    assert.ok(pointers.includes("/products/0/supplier/kvk"));

    const longText = JSON.stringify({
      ...(await sampleOffer([BOARD_ID])),
      text: "x".repeat(400_001),
    });
    await expectProblem(await post(service, "/offers", longText), 422, "validation_failed");

    await expectProblem(
      await post(service, "/offers", JSON.stringify(await sampleOffer([BOARD_ID])), {
        "Content-Type": "text/plain",
      }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await post(service, "/offers", JSON.stringify(await sampleOffer(["99999"]))),
      404,
      "not_found",
    );
    const foreignProduct = await sampleOffer([BOARD_ID]);
    (foreignProduct.products[0] as { supplier: { kvk: string } }).supplier.kvk = "99000002";
    await expectProblem(
      await post(service, "/offers", JSON.stringify(foreignProduct)),
      422,
      "invalid_input",
    );
    assert.equal(await headOf(service), head, "no refused request wrote anything");
  }));

Deno.test("API: a supplier withdraws an unsigned version, naming it", () =>
  withService(async (service) => {
    const offered =
      await (await post(service, "/offers", JSON.stringify(await sampleOffer([BOARD_ID])))).json();
    const shown = { version: 1, oid: offered.oid, contentSha256: offered.contentSha256 };
    await expectProblem(
      await post(
        service,
        `/agreements/${BOARD_ID}/withdraw`,
        JSON.stringify({ ...shown, version: 2 }),
      ),
      409,
      "version_superseded",
    );
    const withdrawn = await post(
      service,
      `/agreements/${BOARD_ID}/withdraw`,
      JSON.stringify(shown),
    );
    assert.equal(withdrawn.status, 200);
    assert.equal((await withdrawn.json()).state, "withdrawn");
    await expectProblem(
      await post(service, `/agreements/${BOARD_ID}/withdraw`, JSON.stringify(shown)),
      409,
      "invalid_transition",
    );
  }));

Deno.test("API: a missing or bad token is 401, a token without the supplier role is 403", () =>
  withService(async (service) => {
    const body = JSON.stringify(await sampleOffer([BOARD_ID]));
    const call = (authorization?: string) =>
      fetch(`${service.url}/api/v1/offers`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          ...(authorization ? { Authorization: authorization } : {}),
        },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    await expectProblem(await call(), 401, "token_missing");
    await expectProblem(await call("Basic dXNlcjpwdw=="), 401, "token_missing");

    const expired = await brokerSignedToken(service, {
      iat: now - 3600,
      nbf: now - 3600,
      exp: now - 600,
    });
    await expectProblem(await call(`Bearer ${expired}`), 401, "token_expired");
    const early = await brokerSignedToken(service, { nbf: now + 600, exp: now + 1200 });
    await expectProblem(await call(`Bearer ${early}`), 401, "token_not_yet_valid");
    const audience = await brokerSignedToken(service, { aud: "another-service" });
    await expectProblem(await call(`Bearer ${audience}`), 401, "token_wrong_audience");
    const issuer = await brokerSignedToken(service, { iss: "https://broker.example" });
    await expectProblem(await call(`Bearer ${issuer}`), 401, "token_wrong_issuer");

    const valid = await brokerSignedToken(service, {});
    const [headerPart, payloadPart] = valid.split(".") as [string, string];
    const header = decodePart(headerPart);
    const claims = decodePart(payloadPart);

    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const otherKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: header.kid as string })
      .sign(privateKey);
    await expectProblem(await call(`Bearer ${otherKey}`), 401, "token_bad_signature");

    const none = `${encodePart({ alg: "none", typ: "JWT" })}.${payloadPart}.`;
    await expectProblem(await call(`Bearer ${none}`), 401, "token_bad_algorithm");

    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", kid: header.kid as string })
      .sign(new TextEncoder().encode(JSON.stringify(await exportJWK(publicKey))));
    await expectProblem(await call(`Bearer ${hs256}`), 401, "token_bad_algorithm");

    const board = await brokerSignedToken(service, {
      "urn:etoegang:core:LegalSubjectID": "01087061",
      "urn:etoegang:core:ServiceID": [service.server.config.services.beoordelen],
    });
    await expectProblem(await call(`Bearer ${board}`), 403, "forbidden");
  }));

Deno.test("API: a supplier reads only its own agreements", () =>
  withService(async (service) => {
    await post(service, "/offers", JSON.stringify(await sampleOffer([BOARD_ID])));
    const other = await fetch(`${service.url}/api/v1/agreements/${BOARD_ID}`, {
      headers: { Authorization: `Bearer ${await supplierToken(service, "99000002")}` },
    });
    await expectProblem(other, 404, "not_found");
  }));

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
}

function encodePart(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

Deno.test("API: the title is part of the content, so a new title is a new version", () =>
  withService(async (service) => {
    assert.equal(
      (await post(service, "/offers", JSON.stringify(await sampleOffer([BOARD_ID])))).status,
      201,
    );
    const renamed = await post(
      service,
      "/offers",
      JSON.stringify(await sampleOffer([BOARD_ID], "Verwerkersovereenkomst 2027")),
    );
    assert.equal(renamed.status, 201);
    const result = await renamed.json();
    assert.equal(result.agreements[0].version, 2);
    const title = await new Deno.Command("git", {
      args: [
        "--git-dir",
        await historyGitDir(service.dir),
        "show",
        `HEAD:agreements/${BOARD_ID}/${SUPPLIER}/version/title.txt`,
      ],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(title.stdout), "Verwerkersovereenkomst 2027\n");
  }));
