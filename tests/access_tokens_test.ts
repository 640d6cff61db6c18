import { DEMO_OPERATOR_KVK } from "../config.ts";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createGitAuthenticator } from "../routes/git_access.ts";
import {
  type AccessTokens,
  type NewAccessToken,
  openAccessTokens,
  sha256Hex,
} from "../store/access_tokens.ts";
import {
  type AxeViolation,
  axeViolations,
  describeViolations,
  launchChromium,
  screenshot,
} from "./helpers/browser.ts";
import { Browser, startTestService, type TestService } from "./helpers/service.ts";
import { storedAccessTokens, testBackend, withAccessTokens } from "./helpers/test_store.ts";

const BOARD = { id: "41344", kvk: "01087061" };
const SECRET = /akk_[A-Za-z0-9_-]{43}/g;
const DAY_MS = 24 * 60 * 60 * 1000;

async function withService(fn: (service: TestService) => Promise<void>): Promise<void> {
  const service = await startTestService();
  try {
    await fn(service);
  } finally {
    await service.close();
  }
}

async function loggedIn(
  service: TestService,
  name: string,
  mandates: Array<"beoordelen" | "ondertekenen" | "beheer" | "auditor">,
): Promise<Browser> {
  const browser = new Browser(service.url);
  const privileged = mandates.includes("auditor") || mandates.includes("beheer");
  const organisation = privileged ? DEMO_OPERATOR_KVK : BOARD.kvk;
  const landed = await browser.login({ organisation, name, mandates });
  assert.equal(landed.status, 303, "the callback redirects after login");
  await landed.body?.cancel();
  return browser;
}

async function createThroughPage(
  browser: Browser,
  fields: { label: string; days: string },
): Promise<{ status: number; html: string; secret: string | undefined; cache: string | null }> {
  await browser.page("/tokens");
  const response = await browser.submit("/tokens", fields);
  const html = await response.text();
  const cache = response.headers.get("Cache-Control");
  return { status: response.status, html, secret: html.match(SECRET)?.[0], cache };
}

function tokenIds(html: string): string[] {
  return [...html.matchAll(/action="\/tokens\/([A-Za-z0-9_-]{16})\/revoke"/g)].map((m) => m[1]!);
}

function gitProbe(tokens: AccessTokens): (authorization?: string) => Promise<boolean> {
  const app = new Hono();
  const authenticate = createGitAuthenticator(tokens);
  app.get("/history.git/info/refs", async (c) => c.text(String(await authenticate(c))));
  return async (authorization) => {
    const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
    const response = await app.request("/history.git/info/refs", { headers });
    return (await response.text()) === "true";
  };
}

function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

async function withTokenFile(
  fn: (path: string, clock: { now: Date }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-tokens-" });
  try {
    await fn(`${dir}/access_tokens.json`, { now: new Date("2026-12-01T09:00:00Z") });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const AUDITOR: NewAccessToken = {
  owner: { subject: "pseudonym-otto", name: "Otto Controle", organisation: "01087061" },
  roles: ["auditor"],
  label: "Jaarcontrole 2026",
};

Deno.test("an auditor creates a token on /tokens and sees its secret exactly once", () =>
  withService(async (service) => {
    const auditor = await loggedIn(service, "Otto Controle", ["auditor"]);
    const home = await auditor.page(`/boards/${BOARD.id}`);
    assert.match(home.html, /href="\/tokens">Toegangssleutels</, "the navigation links to it");
    const empty = await auditor.page("/tokens");
    assert.equal(empty.status, 200);
    assert.match(empty.html, /U hebt nog geen toegangssleutels/);

    const created = await createThroughPage(auditor, { label: "Laptop controle", days: "30" });
    assert.equal(created.status, 200);
    assert.ok(created.secret, "the new secret is shown");
    assert.equal(created.cache, "no-store", "no cache keeps the page with the secret");
    assert.match(created.html, new RegExp(`git clone ${service.url}/history\\.git`));
    assert.match(created.html, /plak de sleutel als wachtwoord/);

    const again = await auditor.page("/tokens");
    assert.equal(again.status, 200);
    assert.match(again.html, /Laptop controle/);
    assert.equal(again.html.match(SECRET), null, "a later visit never shows a secret");
    assert.equal(tokenIds(again.html).length, 1);

    const kept = await storedAccessTokens(service.dir);
    assert.ok(kept, "the token is stored");
    assert.ok(!kept.text.includes(created.secret), "the secret is not stored");
    assert.ok(kept.text.includes(await sha256Hex(created.secret)), "its SHA-256 is stored");
    if (testBackend() === "disk") {
      const info = await Deno.stat(`${service.dir}/access_tokens.json`);
      assert.equal((info.mode ?? 0) & 0o777, 0o600);
    }
    const stored = kept.tokens[0]!;
    assert.equal(stored.label, "Laptop controle");
    assert.deepEqual(stored.roles, ["auditor"]);
    const lifetime = Date.parse(String(stored.expiresAt)) - Date.parse(String(stored.createdAt));
    assert.equal(lifetime, 30 * DAY_MS);
  }));

Deno.test("a token made on the page opens the history door; revoking it closes the door", () =>
  withService(async (service) => {
    const auditor = await loggedIn(service, "Otto Controle", ["auditor"]);
    const { secret } = await createThroughPage(auditor, { label: "Werkstation", days: "90" });
    assert.ok(secret);
    assert.equal(
      await withAccessTokens(service.dir, (tokens) => gitProbe(tokens)(basic("otto", secret))),
      true,
    );

    const [id] = tokenIds((await auditor.page("/tokens")).html);
    const revoked = await auditor.submit(`/tokens/${id}/revoke`, {});
    assert.equal(revoked.status, 303);
    assert.equal(revoked.headers.get("Location"), "/tokens?ingetrokken");
    const after = await auditor.page("/tokens?ingetrokken");
    assert.match(after.html, /De sleutel is ingetrokken/);
    assert.doesNotMatch((await auditor.page("/tokens")).html, /De sleutel is ingetrokken/);
    assert.doesNotMatch(after.html, /Werkstation/);
    const kept = await storedAccessTokens(service.dir);
    assert.ok(!kept?.text.includes(await sha256Hex(secret)));
    assert.equal(
      await withAccessTokens(service.dir, (tokens) => gitProbe(tokens)(basic("otto", secret))),
      false,
    );
  }));

Deno.test("reviewers, signatories and visitors cannot reach /tokens; admins can", () =>
  withService(async (service) => {
    const reviewer = await loggedIn(service, "Anna de Vries", ["beoordelen", "ondertekenen"]);
    const page = await reviewer.page("/tokens");
    assert.equal(page.status, 403);
    assert.match(page.html, /alleen voor auditors en beheerders/);
    assert.doesNotMatch(page.html, /href="\/tokens"/, "no navigation link for them");
    const post = await reviewer.submit("/tokens", { label: "poging", days: "30" });
    assert.equal(post.status, 403);
    await post.body?.cancel();
    assert.equal(await storedAccessTokens(service.dir), null);

    const visitor = new Browser(service.url);
    assert.equal((await visitor.page("/tokens")).status, 401);

    const admin = await loggedIn(service, "Ada Beheer", ["beheer"]);
    assert.match((await admin.page("/admin")).html, /href="\/tokens">Toegangssleutels</);
    const created = await createThroughPage(admin, { label: "Beheer", days: "7" });
    assert.equal(created.status, 200);
    assert.ok(created.secret);
    const stored = await storedAccessTokens(service.dir);
    assert.deepEqual(stored?.tokens[0]?.roles, ["admin"]);
  }));

Deno.test("the create form refuses a missing label and a bad expiry, and needs the CSRF token", () =>
  withService(async (service) => {
    const auditor = await loggedIn(service, "Otto Controle", ["auditor"]);
    const bad = await createThroughPage(auditor, { label: "  ", days: "400" });
    assert.equal(bad.status, 422);
    assert.match(bad.html, /Geef de sleutel een naam/);
    assert.match(bad.html, /Kies een aantal dagen van 1 tot 365/);
    assert.match(bad.html, /aria-invalid="true"/);
    assert.equal(bad.secret, undefined);
    assert.equal((await createThroughPage(auditor, { label: "x", days: "0" })).status, 422);
    assert.equal((await createThroughPage(auditor, { label: "x", days: "2.5" })).status, 422);

    const forged = await auditor.request("/tokens", {
      method: "POST",
      body: new URLSearchParams({ label: "zonder token", days: "30" }),
      headers: { Origin: service.url },
    });
    assert.equal(forged.status, 403);
    await forged.body?.cancel();
    assert.equal(await storedAccessTokens(service.dir), null);
  }));

Deno.test("one person cannot see or revoke another person's token", () =>
  withService(async (service) => {
    const otto = await loggedIn(service, "Otto Controle", ["auditor"]);
    const { secret } = await createThroughPage(otto, { label: "Van Otto", days: "30" });
    assert.ok(secret);
    const [id] = tokenIds((await otto.page("/tokens")).html);

    const other = await loggedIn(service, "Petra Controle", ["auditor"]);
    const page = await other.page("/tokens");
    assert.doesNotMatch(page.html, /Van Otto/);
    const refused = await other.submit(`/tokens/${id}/revoke`, {});
    assert.equal(refused.status, 404);
    await refused.body?.cancel();
    assert.equal(
      await withAccessTokens(service.dir, (tokens) => gitProbe(tokens)(basic("x", secret))),
      true,
      "the token still works",
    );
  }));

Deno.test("in Chromium: the token page, its error and its one-time secret pass axe-core", () =>
  withService(async (service) => {
    const chromium = await launchChromium();
    try {
      // The page's CSP forbids the inline axe script, so this context bypasses it.
      const context = await chromium.newContext({ bypassCSP: true, locale: "nl-NL" });
      const page = await context.newPage();
      const violations: Record<string, AxeViolation[]> = {};
      const record = async (name: string) => {
        await screenshot(page, name);
        violations[name] = await axeViolations(page);
      };

      await page.goto(`${service.url}/login`);
      await page.getByLabel("Organisatie").selectOption(DEMO_OPERATOR_KVK);
      await page.getByLabel("Uw naam").fill("Otto Controle");
      await page.getByLabel("Controleren (auditor)").check();
      await page.getByRole("button", { name: "Inloggen" }).click();
      await page.waitForURL(/\/tokens$/);
      await page.getByRole("navigation", { name: "Hoofdmenu" })
        .getByRole("link", { name: "Toegangssleutels" }).click();
      await page.getByRole("heading", { level: 1, name: "Toegangssleutels" }).waitFor();
      await record("tokens_01_empty");

      await page.getByLabel("Naam van de sleutel").fill("   ");
      await page.getByRole("button", { name: "Sleutel maken" }).click();
      await page.getByText("De sleutel is niet gemaakt.").waitFor();
      await record("tokens_02_error");

      await page.getByLabel("Naam van de sleutel").fill("Laptop controle");
      await page.getByLabel("Aantal dagen geldig").fill("30");
      await page.getByRole("button", { name: "Sleutel maken" }).click();
      const secret = await page.getByLabel("Uw nieuwe sleutel").inputValue();
      assert.match(secret, /^akk_[A-Za-z0-9_-]{43}$/);
      await record("tokens_03_created");

      await page.getByRole("button", { name: "Intrekken van sleutel Laptop controle" }).click();
      await page.getByText("De sleutel is ingetrokken en werkt niet meer.").waitFor();
      await record("tokens_04_revoked");

      assert.equal(
        Object.values(violations).flat().length,
        0,
        `axe-core found violations:\n${describeViolations(violations)}`,
      );
    } finally {
      await chromium.close();
    }
  }));

Deno.test("the store keeps only hashes, survives a reopen and refuses expired tokens", () =>
  withTokenFile(async (path, clock) => {
    const tokens = await openAccessTokens({ path, now: () => clock.now });
    const { token, secret } = await tokens.createToken(AUDITOR);
    assert.match(secret, /^akk_[A-Za-z0-9_-]{43}$/);
    assert.equal(token.hash, await sha256Hex(secret));
    assert.equal(Date.parse(token.expiresAt) - clock.now.getTime(), 90 * DAY_MS, "90 days");
    assert.ok(!(await Deno.readTextFile(path)).includes(secret));

    const reopened = await openAccessTokens({ path, now: () => clock.now });
    assert.equal((await reopened.verify(secret))?.id, token.id);
    const last = secret.at(-1) === "A" ? "B" : "A";
    assert.equal(await reopened.verify(secret.slice(0, -1) + last), null);
    assert.equal(await reopened.verify("not-a-token"), null);

    clock.now = new Date(Date.parse(token.expiresAt) - 1);
    assert.equal((await reopened.verify(secret))?.id, token.id, "valid until its expiry");
    clock.now = new Date(token.expiresAt);
    assert.equal(await reopened.verify(secret), null, "refused from its expiry on");
    assert.equal(reopened.list(AUDITOR.owner).length, 1, "still listed, as expired");
  }));

Deno.test("the store refuses tokens without a role, too long an expiry or an empty label", () =>
  withTokenFile(async (path, clock) => {
    const tokens = await openAccessTokens({ path, now: () => clock.now });
    await assert.rejects(
      tokens.createToken({ ...AUDITOR, roles: [] }),
      /neither auditor nor admin/,
    );
    await assert.rejects(tokens.createToken({ ...AUDITOR, expiresInDays: 366 }), /366 days/);
    await assert.rejects(tokens.createToken({ ...AUDITOR, expiresInDays: 0 }), /0 days/);
    await assert.rejects(tokens.createToken({ ...AUDITOR, label: " " }), /label/);
    const year = await tokens.createToken({ ...AUDITOR, expiresInDays: 365 });
    assert.equal(Date.parse(year.token.expiresAt) - clock.now.getTime(), 365 * DAY_MS);
    assert.equal(tokens.list(AUDITOR.owner).length, 1);
  }));

Deno.test("revoking needs the owner; a revoked token is gone after a reopen", () =>
  withTokenFile(async (path, clock) => {
    const tokens = await openAccessTokens({ path, now: () => clock.now });
    const { token, secret } = await tokens.createToken(AUDITOR);
    const stranger = { subject: "pseudonym-eve", organisation: AUDITOR.owner.organisation };
    const otherOrganisation = { subject: AUDITOR.owner.subject, organisation: "99000001" };
    assert.equal(await tokens.revoke(token.id, stranger), false);
    assert.equal(await tokens.revoke(token.id, otherOrganisation), false);
    assert.deepEqual(tokens.list(stranger), []);
    assert.equal(await tokens.revoke(token.id, AUDITOR.owner), true);
    assert.equal(await tokens.revoke(token.id, AUDITOR.owner), false);
    const reopened = await openAccessTokens({ path, now: () => clock.now });
    assert.equal(await reopened.verify(secret), null);
    assert.deepEqual(reopened.list(AUDITOR.owner), []);
  }));

Deno.test("the git authenticator accepts a valid Basic password and refuses everything else", () =>
  withTokenFile(async (path, clock) => {
    const tokens = await openAccessTokens({ path, now: () => clock.now });
    const door = gitProbe(tokens);
    const { token, secret } = await tokens.createToken({ ...AUDITOR, expiresInDays: 1 });
    const admin = await tokens.createToken({ ...AUDITOR, roles: ["admin"], label: "Beheer" });

    assert.equal(await door(basic("any name", secret)), true);
    assert.equal(await door(basic("", secret)), true, "the user name is ignored");
    assert.equal(await door(basic("beheer", admin.secret)), true);
    assert.equal(await door(), false, "no Authorization header");
    assert.equal(await door(basic("otto", secret.slice(0, -2) + "xx")), false, "a wrong secret");
    assert.equal(await door(basic(secret, "")), false, "the secret as the user name");
    assert.equal(await door(`Bearer ${secret}`), false);
    assert.equal(await door("Basic %%%not-base64"), false);
    assert.equal(await door(`Basic ${btoa(secret)}`), false, "no colon");

    clock.now = new Date(Date.parse(token.expiresAt));
    assert.equal(await door(basic("otto", secret)), false, "expired");
    assert.equal(await door(basic("beheer", admin.secret)), true);
    assert.equal(await tokens.revoke(admin.token.id, AUDITOR.owner), true);
    assert.equal(await door(basic("beheer", admin.secret)), false, "revoked");
  }));

Deno.test("the git authenticator notes the last use at most once a minute", () =>
  withTokenFile(async (path, clock) => {
    const tokens = await openAccessTokens({ path, now: () => clock.now });
    const door = gitProbe(tokens);
    const { token, secret } = await tokens.createToken(AUDITOR);
    const lastUsed = async () =>
      (await openAccessTokens({ path })).list(AUDITOR.owner)[0]?.lastUsedAt;
    assert.equal(await lastUsed(), undefined);

    const first = clock.now.toISOString();
    assert.equal(await door(basic("otto", secret)), true);
    assert.equal(await lastUsed(), first);
    const written = (await Deno.stat(path)).mtime?.getTime();
    clock.now = new Date(clock.now.getTime() + 59_000);
    assert.equal(await door(basic("otto", secret)), true);
    assert.equal(await lastUsed(), first, "not again within the minute");
    assert.equal((await Deno.stat(path)).mtime?.getTime(), written, "the file was not written");
    clock.now = new Date(clock.now.getTime() + 1_000);
    assert.equal(await door(basic("otto", secret)), true);
    assert.equal(await lastUsed(), clock.now.toISOString());
    assert.equal(tokens.list(AUDITOR.owner)[0]?.id, token.id);
  }));
