import assert from "node:assert/strict";
import { type Context, Hono } from "hono";
import { BOARD, headOf, TERMS_FORM, withService } from "./helpers/board_flow.ts";
import { Browser, startTestService, type TestService } from "./helpers/service.ts";
import { rateLimit } from "../routes/rate_limit.ts";

const HSTS = "max-age=31536000; includeSubDomains";

/** Fetches a path without following redirects and drops the body. */
async function head(service: TestService, path: string, init: RequestInit = {}) {
  const response = await fetch(`${service.url}${path}`, { ...init, redirect: "manual" });
  await response.body?.cancel();
  return response;
}

function assertCommonHeaders(response: Response, what: string): void {
  assert.equal(response.headers.get("x-content-type-options"), "nosniff", what);
  assert.equal(response.headers.get("cross-origin-opener-policy"), "same-origin", what);
  assert.equal(response.headers.get("x-frame-options"), "DENY", what);
  assert.equal(response.headers.get("referrer-policy"), "same-origin", what);
  assert.match(response.headers.get("permissions-policy") ?? "", /camera=\(\)/, what);
}

Deno.test("pages, API problems, assets and broker answers carry the security headers", async () => {
  await withService(async (service) => {
    const page = await head(service, "/");
    assertCommonHeaders(page, "home page");
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

    const unauthorised = await head(service, `/api/v1/agreements/${BOARD.id}`);
    assert.equal(unauthorised.status, 401);
    assert.match(unauthorised.headers.get("content-type") ?? "", /application\/problem\+json/);
    assertCommonHeaders(unauthorised, "API problem");

    const missing = await head(service, "/api/nothing-here");
    assert.equal(missing.status, 404);
    assertCommonHeaders(missing, "API 404");

    assertCommonHeaders(await head(service, "/assets/app.css"), "stylesheet");
    const refused = await head(service, "/dev-broker/token", {
      method: "POST",
      body: new URLSearchParams({ grant_type: "nonsense" }),
    });
    assertCommonHeaders(refused, "broker token error");

    for (const response of [page, unauthorised, missing]) {
      assert.equal(response.headers.get("strict-transport-security"), null, "no HSTS on http");
    }
  });
});

Deno.test("HSTS is sent when the public address is https", async () => {
  const service = await startTestService({ AKKOORD_PUBLIC_URL: "https://akkoord.example" });
  try {
    for (const path of ["/", `/api/v1/agreements/${BOARD.id}`, "/assets/app.css", "/nowhere"]) {
      const response = await head(service, path);
      assert.equal(response.headers.get("strict-transport-security"), HSTS, path);
      assertCommonHeaders(response, path);
    }
  } finally {
    await service.close();
  }
});

Deno.test("state-changing requests need the CSRF token in a form body or with our Origin", async () => {
  await withService(async (service) => {
    const user = new Browser(service.url);
    await (await user.login({
      organisation: BOARD.kvk,
      name: "Anna de Vries",
      mandates: ["beoordelen"],
    })).body?.cancel();
    await user.page(`/boards/${BOARD.id}`);
    const token = user.csrf;
    assert.ok(token);
    const terms = `/boards/${BOARD.id}/terms`;
    const before = await headOf(service);

    const refusals: Array<[string, RequestInit]> = [
      ["no Content-Type and no token", { body: new TextEncoder().encode("accept=on") }],
      ["no Content-Type, token in the body", {
        body: new TextEncoder().encode(`_csrf=${token}&accept=on`),
      }],
      ["text/plain with a _csrf= body", {
        headers: { "Content-Type": "text/plain" },
        body: `_csrf=${token}&accept=on`,
      }],
      ["JSON to a form route", {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ _csrf: token, accept: "on" }),
      }],
      ["multipart without the token", { body: formData({ accept: "on" }) }],
      ["a malformed multipart body", {
        headers: { "Content-Type": "multipart/form-data; boundary=x" },
        body: "--x\r\nbroken",
      }],
      ["the header token from another origin", {
        headers: { "X-CSRF-Token": token, Origin: "http://127.0.0.1:1" },
        body: new URLSearchParams({ accept: "on" }),
      }],
      ["the header token without Origin or Referer", {
        headers: { "X-CSRF-Token": token },
        body: new URLSearchParams({ accept: "on" }),
      }],
      ["a wrong header token", {
        headers: { "X-CSRF-Token": `${token}x`, Origin: service.url },
        body: new URLSearchParams({ accept: "on" }),
      }],
    ];
    for (const [what, init] of refusals) {
      const headers = new Headers(init.headers);
      if (!headers.has("Origin") && what !== "the header token without Origin or Referer") {
        headers.set("Origin", service.url);
      }
      const response = await user.request(terms, { ...init, method: "POST", headers });
      assert.equal(response.status, 403, what);
      await response.body?.cancel();
    }
    const noSession = await fetch(`${service.url}${terms}`, {
      method: "POST",
      headers: { Origin: service.url, "X-CSRF-Token": token },
      body: new URLSearchParams({ accept: "on" }),
    });
    assert.equal(noSession.status, 403, "a token without its session cookie");
    await noSession.body?.cancel();
    assert.equal(await headOf(service), before, "no refused request changed the history");

    const accepted = await user.request(terms, {
      method: "POST",
      headers: { "X-CSRF-Token": token, Origin: service.url },
      body: new URLSearchParams(TERMS_FORM),
    });
    assert.equal(accepted.status, 303, "the header token with our Origin is accepted");
    await accepted.body?.cancel();
    assert.notEqual(await headOf(service), before);

    const logout = await user.request("/logout", {
      method: "POST",
      headers: { Origin: service.url },
      body: formData({ _csrf: token }),
    });
    assert.equal(logout.status, 303, "a multipart form with the token is accepted");
    await logout.body?.cancel();
  });
});

Deno.test("hammering /login gets 429 with Retry-After and a Dutch page", async () => {
  await withService(async (service) => {
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await head(service, "/login")).status);
    assert.deepEqual(new Set(statuses), new Set([303]), "the default allows 60 a minute");

    const refused = await fetch(`${service.url}/login`, { redirect: "manual" });
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match(refused.headers.get("content-type") ?? "", /text\/html/);
    assertCommonHeaders(refused, "429 page");
    const page = await refused.text();
    assert.match(page, /<html lang="nl">/);
    assert.match(page, /Te veel pogingen/);

    assert.equal((await head(service, "/")).status, 200, "other pages are not limited");
  });
});

Deno.test("the login limit is configurable; token endpoints answer 429 as problem+json", async () => {
  const service = await startTestService({
    AKKOORD_RATE_LIMIT_LOGIN_PER_MINUTE: "2",
    AKKOORD_RATE_LIMIT_TOKEN_PER_MINUTE: "3",
  });
  try {
    for (const path of ["/login", "/auth/callback?code=x&state=y", "/dev-broker/authorize"]) {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await head(service, path)).status);
      assert.notEqual(statuses[1], 429, path);
      assert.equal(statuses[2], 429, path);
    }

    const token = () =>
      fetch(`${service.url}/dev-broker/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: "99000001" }),
      });
    for (let i = 0; i < 3; i++) {
      const response = await token();
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    const refused = await token();
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get("content-type") ?? "", /application\/problem\+json/);
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    const body = await refused.json();
    assert.equal(body.type, "urn:akkoord:problem:rate_limited");
    assert.equal(body.status, 429);

    for (let i = 0; i < 3; i++) await head(service, "/oauth/token", { method: "POST" });
    const oauth = await head(service, "/oauth/token", { method: "POST" });
    assert.equal(oauth.status, 429);
    assert.match(oauth.headers.get("content-type") ?? "", /application\/problem\+json/);
  } finally {
    await service.close();
  }
});

Deno.test("rateLimit counts per key in fixed windows that reset", async () => {
  let clock = 1_000_000;
  const app = new Hono();
  app.use(
    "/limited",
    rateLimit({
      key: (c: Context) => c.req.header("x-client") ?? "",
      limit: 2,
      windowMs: 10_000,
      now: () => clock,
    }),
  );
  app.get("/limited", (c) => c.text("ok"));
  app.get("/api/limited", (c) => c.text("ok"));
  const call = (client: string) =>
    app.request("http://127.0.0.1/limited", { headers: { "x-client": client } });

  assert.equal((await call("a")).status, 200);
  assert.equal((await call("a")).status, 200);
  clock += 4_000;
  const refused = await call("a");
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "6");
  assert.equal((await call("b")).status, 200, "another client has its own budget");
  clock += 6_000;
  assert.equal((await call("a")).status, 200, "a new window starts");
  assert.throws(() => rateLimit({ key: () => "", limit: 0, windowMs: 1 }), /whole number/);
});

function formData(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  return form;
}
