import { TEST_SERVICES } from "./helpers/jwks_server.ts";
import { loadOrCreateSecretFile } from "../store/secret_file.ts";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { base64url as joseBase64url } from "jose";
import { createDevBroker, type DevBroker } from "../routes/dev_broker.ts";
import { createAuthRoutes } from "../routes/auth_routes.ts";
import { createSessions, csrfGuard, type Sessions } from "../routes/session.ts";
import { createTokenVerifier, type TokenVerifier } from "../routes/token_verifier.ts";

const CLIENT_ID = "akkoord-test";
const BOARD = {
  kvk: "01234567",
  name: "Stichting Openbaar Onderwijs Test",
  kind: "board",
} as const;
const SUPPLIER = { kvk: "87654321", name: "Leerling Software B.V.", kind: "supplier" } as const;
const SERVICES = TEST_SERVICES;

interface TestSite {
  origin: string;
  issuer: string;
  broker: DevBroker;
  verifier: TokenVerifier;
  close(): Promise<void>;
}

/** Serves broker, login routes and two probe routes on 127.0.0.1 like the lead's app would. */
async function startSite(
  keyDir?: string,
  brokerOptions: { minimalIdToken?: boolean } = {},
): Promise<TestSite> {
  const app = new Hono();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const issuer = `${origin}/dev-broker`;
  const broker = await createDevBroker({
    issuer,
    audience: CLIENT_ID,
    organisations: () => [BOARD, SUPPLIER],
    services: SERVICES,
    ...brokerOptions,
    ...(keyDir
      ? {
        persistKey: (create: () => Promise<string>) =>
          loadOrCreateSecretFile(`${keyDir}/dev_broker_key.json`, create),
      }
      : {}),
  });
  const verifier = createTokenVerifier({
    issuer,
    audience: CLIENT_ID,
    jwksUrl: new URL(`${issuer}/jwks`),
    services: SERVICES,
  });
  const sessions = createSessions({
    secret: "test-secret-that-is-long-enough-0123456789",
    secure: false,
  });
  mountSite(app, { broker, verifier, sessions, issuer, origin });
  return { origin, issuer, broker, verifier, close: () => server.shutdown() };
}

function mountSite(
  app: Hono,
  parts: {
    broker: DevBroker;
    verifier: TokenVerifier;
    sessions: Sessions;
    issuer: string;
    origin: string;
  },
): void {
  app.route("/dev-broker", parts.broker.app);
  app.route(
    "/",
    createAuthRoutes({
      verifier: parts.verifier,
      sessions: parts.sessions,
      brokerIssuer: parts.issuer,
      clientId: CLIENT_ID,
      redirectUri: `${parts.origin}/auth/callback`,
    }),
  );
  app.route(
    "/broken",
    createAuthRoutes({
      verifier: parts.verifier,
      sessions: parts.sessions,
      brokerIssuer: `${parts.origin}/nowhere`,
      clientId: CLIENT_ID,
      redirectUri: `${parts.origin}/broken/auth/callback`,
    }),
  );
  app.get("/", async (c) => c.json(await parts.sessions.read(c)));
  app.post("/action", csrfGuard(parts.origin, parts.sessions), async (c) => {
    const body = await c.req.parseBody();
    return c.text(`done ${body.note}`);
  });
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.text(error.message, error.status);
    throw error;
  });
}

/** A browser's cookie jar, enough for one origin. */
class Browser {
  #cookies = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) headers.set("cookie", this.cookieHeader());
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) this.#remember(line);
    return response;
  }

  cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  #remember(line: string): void {
    const [pair = "", ...attributes] = line.split(";");
    const index = pair.indexOf("=");
    const name = pair.slice(0, index).trim();
    const gone = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
    if (gone) this.#cookies.delete(name);
    else this.#cookies.set(name, pair.slice(index + 1).trim());
  }
}

async function text(response: Response): Promise<string> {
  return await response.text();
}

function location(response: Response): string {
  const value = response.headers.get("location");
  assert.ok(value, `expected a redirect, got ${response.status}`);
  return value;
}

function hiddenFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1]!] = match[2]!.replaceAll("&quot;", '"').replaceAll("&amp;", "&");
  }
  return fields;
}

interface LoginChoice {
  organisation: string;
  name: string;
  mandates: string[];
  assurance: string;
}

/** Logs in through /login, the broker page and the callback, as a browser would. */
async function logIn(site: TestSite, browser: Browser, choice: LoginChoice): Promise<Response> {
  const login = await browser.request(`${site.origin}/login?next=/overzicht`);
  assert.equal(login.status, 303);
  await login.body?.cancel();
  const authorize = await browser.request(new URL(location(login), site.origin).href);
  assert.equal(authorize.status, 200);
  const page = await text(authorize);
  assert.match(page, /Stichting Openbaar Onderwijs Test/);
  assert.match(page, /utrecht-button utrecht-button--primary-action/);

  const form = new URLSearchParams(hiddenFields(page));
  form.set("organisation", choice.organisation);
  form.set("name", choice.name);
  for (const mandate of choice.mandates) form.append("mandate", mandate);
  form.set("assurance", choice.assurance);
  const chosen = await browser.request(`${site.issuer}/authorize`, { method: "POST", body: form });
  assert.equal(chosen.status, 303);
  await chosen.body?.cancel();
  return await browser.request(location(chosen));
}

function decodeJwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  const part = token.split(".")[index] ?? "";
  return JSON.parse(new TextDecoder().decode(joseBase64url.decode(part)));
}

async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = joseBase64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: joseBase64url.encode(new Uint8Array(digest)) };
}

/** Asks the broker for a code directly, without the login routes. */
async function brokerCode(site: TestSite, challenge: string): Promise<string> {
  const form = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: `${site.origin}/auth/callback`,
    state: "state-1",
    nonce: "nonce-1",
    code_challenge: challenge,
    code_challenge_method: "S256",
    organisation: BOARD.kvk,
    name: "Piet Jansen",
    mandate: "beoordelen",
    assurance: "loa3",
  });
  const response = await fetch(`${site.issuer}/authorize`, {
    method: "POST",
    body: form,
    redirect: "manual",
  });
  assert.equal(response.status, 303);
  await response.body?.cancel();
  const code = new URL(location(response)).searchParams.get("code");
  assert.ok(code);
  return code;
}

async function exchange(site: TestSite, fields: Record<string, string>): Promise<Response> {
  return await fetch(`${site.issuer}/token`, {
    method: "POST",
    body: new URLSearchParams(fields),
  });
}

Deno.test("dev broker and login routes over HTTP", async (t) => {
  const site = await startSite();
  try {
    await t.step("publishes discovery and a JWKS with a kid", async () => {
      const discovery = await (await fetch(`${site.issuer}/.well-known/openid-configuration`))
        .json();
      assert.equal(discovery.issuer, site.issuer);
      assert.equal(discovery.token_endpoint, `${site.issuer}/token`);
      assert.equal(discovery.userinfo_endpoint, `${site.issuer}/userinfo`);
      const jwks = await (await fetch(discovery.jwks_uri)).json();
      assert.equal(jwks.keys.length, 1);
      assert.ok(jwks.keys[0].kid);
      assert.equal(jwks.keys[0].d, undefined, "the private part must not be published");
    });

    await t.step("logs a reviewer in with code flow and PKCE", async () => {
      const browser = new Browser();
      const callback = await logIn(site, browser, {
        organisation: BOARD.kvk,
        name: "Anna de Vries",
        mandates: ["beoordelen", "ondertekenen"],
        assurance: "loa3",
      });
      assert.equal(callback.status, 303);
      assert.equal(location(callback), "/overzicht");
      await callback.body?.cancel();
      assert.equal(browser.cookie("akkoord_login"), undefined, "login state is spent");

      const session = await (await browser.request(`${site.origin}/`)).json();
      assert.equal(session.principal.organisation, BOARD.kvk);
      assert.equal(session.principal.name, "Anna de Vries");
      assert.deepEqual(session.principal.mandates, ["beoordelen", "ondertekenen"]);
      assert.equal(session.principal.assurance, "urn:etoegang:core:assurance-class:loa3");
      assert.equal(session.principal.supplier, false);
      assert.match(session.principal.subject, /^[0-9a-f]{40}$/);
    });

    await t.step("sets the session cookie HttpOnly, SameSite=Lax, Path=/", async () => {
      const browser = new Browser();
      const login = await browser.request(`${site.origin}/login`);
      const line = login.headers.getSetCookie().join("\n");
      await login.body?.cancel();
      assert.match(line, /HttpOnly/);
      assert.match(line, /SameSite=Lax/);
      assert.match(line, /Path=\//);
    });

    await t.step("gives the same pseudonym to the same person twice", async () => {
      const subjects = [];
      for (let i = 0; i < 2; i++) {
        const browser = new Browser();
        const choice = { organisation: SUPPLIER.kvk, name: "Bo", mandates: [], assurance: "loa3" };
        await (await logIn(site, browser, choice)).body?.cancel();
        const session = await (await browser.request(`${site.origin}/`)).json();
        assert.equal(session.principal.supplier, true);
        subjects.push(session.principal.subject);
      }
      assert.equal(subjects[0], subjects[1]);
    });

    await t.step("refuses a login below loa3 with a Dutch message", async () => {
      const browser = new Browser();
      const choice = { organisation: BOARD.kvk, name: "Kees", mandates: [], assurance: "loa2" };
      const callback = await logIn(site, browser, choice);
      assert.equal(callback.status, 403);
      assert.match(await text(callback), /te laag betrouwbaarheidsniveau/);
      assert.equal(await (await browser.request(`${site.origin}/`)).json(), null);
    });

    await t.step("refuses a login without any mandate with a Dutch message", async () => {
      const browser = new Browser();
      const choice = { organisation: BOARD.kvk, name: "Kees", mandates: [], assurance: "loa3" };
      const callback = await logIn(site, browser, choice);
      assert.equal(callback.status, 403);
      const page = await text(callback);
      assert.match(page, /<html lang="nl">/);
      assert.match(page, /geeft geen machtiging voor Akkoord/);
      assert.match(page, /beheerder van eHerkenning in uw organisatie/);
      assert.equal(await (await browser.request(`${site.origin}/`)).json(), null);
    });

    await t.step("refuses a callback whose state does not match", async () => {
      const browser = new Browser();
      const login = await browser.request(`${site.origin}/login`);
      await login.body?.cancel();
      const callback = await browser.request(`${site.origin}/auth/callback?code=x&state=forged`);
      assert.equal(callback.status, 400);
      assert.match(await text(callback), /hoort niet bij deze inlogpoging/);
    });

    await t.step("refuses a callback without login state", async () => {
      const callback = await fetch(`${site.origin}/auth/callback?code=x&state=y`);
      assert.equal(callback.status, 400);
      assert.match(await text(callback), /verlopen of niet gevonden/);
    });

    await t.step("reports an unreachable broker as 503 with a Dutch message", async () => {
      const response = await fetch(`${site.origin}/broken/login`, { redirect: "manual" });
      assert.equal(response.status, 503);
      assert.match(await text(response), /niet bereikbaar/);
    });

    await t.step("refuses a redirect_uri on another origin", async () => {
      const { challenge } = await pkce();
      const query = new URLSearchParams({
        response_type: "code",
        client_id: CLIENT_ID,
        redirect_uri: "http://localhost:1/auth/callback",
        state: "s",
        nonce: "n",
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      const response = await fetch(`${site.issuer}/authorize?${query}`);
      assert.equal(response.status, 400);
      assert.match(await text(response), /niet toegestaan/);
    });

    await t.step("refuses a wrong code_verifier", async () => {
      const { challenge } = await pkce();
      const code = await brokerCode(site, challenge);
      const response = await exchange(site, {
        grant_type: "authorization_code",
        code,
        redirect_uri: `${site.origin}/auth/callback`,
        code_verifier: (await pkce()).verifier,
      });
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), { error: "invalid_grant" });
    });

    await t.step("refuses to redeem a code twice", async () => {
      const { verifier, challenge } = await pkce();
      const code = await brokerCode(site, challenge);
      const fields = {
        grant_type: "authorization_code",
        code,
        redirect_uri: `${site.origin}/auth/callback`,
        code_verifier: verifier,
        client_id: CLIENT_ID,
      };
      const first = await exchange(site, fields);
      assert.equal(first.status, 200);
      const tokens = await first.json();
      const principal = await site.verifier.verifyLogin({
        idToken: tokens.id_token,
        nonce: "nonce-1",
      });
      assert.deepEqual(principal.mandates, ["beoordelen"]);
      assert.equal(decodeJwtPart(tokens.id_token, 0).typ, "JWT");
      assert.equal(decodeJwtPart(tokens.access_token, 0).typ, "at+jwt");
      const swapped = site.verifier.verifyLogin({ idToken: tokens.access_token, nonce: "nonce-1" });
      await assert.rejects(swapped, /type "at\+jwt" is not jwt/, "an access token is no ID token");

      const userinfo = await fetch(`${site.issuer}/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(userinfo.status, 200);
      const claims = await userinfo.json();
      assert.equal(claims.sub, decodeJwtPart(tokens.id_token, 1).sub);
      assert.equal(claims["urn:etoegang:core:LegalSubjectID"], BOARD.kvk);
      assert.equal(claims.nonce, undefined);
      for (const authorization of [`Bearer ${tokens.id_token}`, "Bearer x.y.z", ""]) {
        const refused = await fetch(`${site.issuer}/userinfo`, { headers: { authorization } });
        assert.equal(refused.status, 401, authorization);
        assert.match(refused.headers.get("www-authenticate") ?? "", /invalid_token/);
        await refused.body?.cancel();
      }

      const second = await exchange(site, fields);
      assert.equal(second.status, 400);
      assert.deepEqual(await second.json(), { error: "invalid_grant" });
    });

    await t.step("issues a supplier token by client_credentials that verifies", async () => {
      const response = await exchange(site, {
        grant_type: "client_credentials",
        client_id: SUPPLIER.kvk,
      });
      assert.equal(response.status, 200);
      const { access_token } = await response.json();
      const principal = await site.verifier.verify(access_token);
      assert.equal(principal.organisation, SUPPLIER.kvk);
      assert.equal(principal.supplier, true);
      assert.deepEqual(principal.mandates, []);

      const board = await exchange(site, {
        grant_type: "client_credentials",
        client_id: BOARD.kvk,
      });
      assert.equal(board.status, 401);
      assert.deepEqual(await board.json(), { error: "invalid_client" });
    });

    await t.step("issueToken signs tokens the verifier accepts", async () => {
      const token = await site.broker.issueToken({
        sub: "s-1",
        acr: "urn:etoegang:core:assurance-class:loa4",
        "urn:etoegang:core:LegalSubjectID": BOARD.kvk,
        "urn:etoegang:core:ServiceID": SERVICES.beheer,
      });
      const principal = await site.verifier.verify(token);
      assert.equal(principal.admin, false, "a board is no operator organisation");
      assert.equal(principal.name, "s-1");
    });

    await t.step("refuses a tampered session cookie", async () => {
      const browser = new Browser();
      const choice = {
        organisation: BOARD.kvk,
        name: "Eva",
        mandates: ["beoordelen"],
        assurance: "loa3",
      };
      await (await logIn(site, browser, choice)).body?.cancel();
      const cookie = browser.cookie("akkoord_session");
      assert.ok(cookie);
      assert.doesNotMatch(decodeURIComponent(cookie), /Eva|mandates/, "the cookie is only an id");
      const forged = (cookie.startsWith("A") ? "B" : "A") + cookie.slice(1);
      assert.notEqual(forged, cookie);
      browser.setCookie("akkoord_session", forged);
      assert.equal(await (await browser.request(`${site.origin}/`)).json(), null);
    });

    await t.step("guards forms by origin and CSRF token, and logs out", async () => {
      const browser = new Browser();
      const choice = {
        organisation: BOARD.kvk,
        name: "Lot",
        mandates: ["beoordelen"],
        assurance: "loa3",
      };
      await (await logIn(site, browser, choice)).body?.cancel();
      const { csrf } = await (await browser.request(`${site.origin}/`)).json();

      const post = (origin: string, fields: Record<string, string>) =>
        browser.request(`${site.origin}/action`, {
          method: "POST",
          headers: { origin },
          body: new URLSearchParams(fields),
        });

      const missing = await post(site.origin, { note: "a" });
      assert.equal(missing.status, 403);
      assert.match(await text(missing), /formulier/);
      const wrong = await post(site.origin, { note: "a", _csrf: `${csrf}x` });
      assert.equal(wrong.status, 403);
      await wrong.body?.cancel();
      const foreign = await post("http://localhost:9999", { note: "a", _csrf: csrf });
      assert.equal(foreign.status, 403);
      await foreign.body?.cancel();
      const good = await post(site.origin, { note: "a", _csrf: csrf });
      assert.equal(good.status, 200);
      assert.equal(await text(good), "done a");

      const refererOnly = await browser.request(`${site.origin}/action`, {
        method: "POST",
        headers: { referer: `${site.origin}/page` },
        body: new URLSearchParams({ note: "b", _csrf: csrf }),
      });
      assert.equal(await text(refererOnly), "done b");

      const logout = await browser.request(`${site.origin}/logout`, {
        method: "POST",
        headers: { origin: site.origin },
        body: new URLSearchParams({ _csrf: csrf }),
      });
      assert.equal(logout.status, 303);
      await logout.body?.cancel();
      assert.equal(await (await browser.request(`${site.origin}/`)).json(), null);
    });
  } finally {
    await site.close();
  }
});

Deno.test("a minimal ID token is completed from the broker's userinfo", async (t) => {
  const site = await startSite(undefined, { minimalIdToken: true });
  try {
    await t.step("the ID token carries only the subject", async () => {
      const { verifier, challenge } = await pkce();
      const code = await brokerCode(site, challenge);
      const response = await exchange(site, {
        grant_type: "authorization_code",
        code,
        redirect_uri: `${site.origin}/auth/callback`,
        code_verifier: verifier,
      });
      const tokens = await response.json();
      const claims = decodeJwtPart(tokens.id_token, 1);
      assert.deepEqual(
        Object.keys(claims).sort(),
        ["aud", "exp", "iat", "iss", "nbf", "nonce", "sub"],
      );
      const withoutUserinfo = site.verifier.verifyLogin({
        idToken: tokens.id_token,
        nonce: "nonce-1",
      });
      await assert.rejects(withoutUserinfo, /LegalSubjectID|assurance|acting person/);
    });

    await t.step("the login routes read userinfo and log the person in", async () => {
      const browser = new Browser();
      const callback = await logIn(site, browser, {
        organisation: BOARD.kvk,
        name: "Fenna Bakker",
        mandates: ["ondertekenen"],
        assurance: "loa4",
      });
      assert.equal(callback.status, 303);
      await callback.body?.cancel();
      const session = await (await browser.request(`${site.origin}/`)).json();
      assert.equal(session.principal.organisation, BOARD.kvk);
      assert.equal(session.principal.name, "Fenna Bakker");
      assert.deepEqual(session.principal.mandates, ["ondertekenen"]);
      assert.equal(session.principal.assurance, "urn:etoegang:core:assurance-class:loa4");
    });

    await t.step("the mandate check applies to claims from userinfo", async () => {
      const browser = new Browser();
      const choice = { organisation: BOARD.kvk, name: "Kees", mandates: [], assurance: "loa3" };
      const callback = await logIn(site, browser, choice);
      assert.equal(callback.status, 403);
      assert.match(await text(callback), /geeft geen machtiging voor Akkoord/);
    });
  } finally {
    await site.close();
  }
});

Deno.test("dev broker keeps its key in keyDir across restarts", async () => {
  const keyDir = await Deno.makeTempDir();
  try {
    const kids = [];
    for (let i = 0; i < 2; i++) {
      const site = await startSite(keyDir);
      try {
        const jwks = await (await fetch(`${site.issuer}/jwks`)).json();
        kids.push(jwks.keys[0].kid);
      } finally {
        await site.close();
      }
    }
    assert.equal(kids[0], kids[1]);
    const info = await Deno.stat(`${keyDir}/dev_broker_key.json`);
    assert.equal((info.mode ?? 0) & 0o777, 0o600);
  } finally {
    await Deno.remove(keyDir, { recursive: true });
  }
});

const PRINCIPAL = {
  subject: "pseudo-1",
  name: "Anna",
  organisation: "01234567",
  assurance: "urn:etoegang:core:assurance-class:loa3",
  mandates: [],
  supplier: false,
  admin: false,
  auditor: false,
};

Deno.test("secure sessions use the __Host- prefix and the Secure flag", async () => {
  const sessions = createSessions({ secret: "x".repeat(32), secure: true });
  const app = new Hono();
  app.post("/start", async (c) => c.json(await sessions.start(c, PRINCIPAL)));
  app.get("/me", async (c) => c.json(await sessions.read(c)));

  const started = await app.request("https://akkoord.test/start", { method: "POST" });
  const line = started.headers.get("set-cookie") ?? "";
  assert.match(line, /^__Host-akkoord_session=/);
  assert.match(line, /; Secure/);
  assert.match(line, /; HttpOnly/);
  assert.match(line, /; SameSite=Lax/);
  const cookie = line.split(";")[0] ?? "";
  const me = await app.request("https://akkoord.test/me", { headers: { cookie } });
  assert.deepEqual((await me.json()).principal, PRINCIPAL);
});

Deno.test("sessions end when their time is up, whatever the browser sends", async () => {
  const sessions = createSessions({ secret: "x".repeat(32), secure: false, maxAgeSeconds: 0 });
  const app = new Hono();
  app.post("/start", async (c) => c.json(await sessions.start(c, PRINCIPAL)));
  app.get("/me", async (c) => c.json(await sessions.read(c)));

  const started = await app.request("http://127.0.0.1/start", { method: "POST" });
  const cookie = (started.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  assert.match(cookie, /^akkoord_session=/);
  const me = await app.request("http://127.0.0.1/me", { headers: { cookie } });
  assert.equal(await me.json(), null);
});

Deno.test("sessions refuse a short secret", () => {
  assert.throws(() => createSessions({ secret: "short", secure: true }), /at least 32/);
});
