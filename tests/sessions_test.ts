import assert from "node:assert/strict";
import { BOARD } from "./helpers/board_flow.ts";
import { Browser, startTestService, type TestService } from "./helpers/service.ts";
import { sessionIdHash } from "../store/session_records.ts";
import { readConfig } from "../config.ts";
import { loseSessions, onlyOn } from "./helpers/test_store.ts";

const COOKIE = "akkoord_session";
const MINUTE = 60 * 1000;
const BOARD_PAGE = `/boards/${BOARD.id}`;

/** A clock the test moves forward. */
class TestClock {
  offsetMs = 0;
  now = (): Date => new Date(Date.now() + this.offsetMs);

  advanceMinutes(minutes: number): void {
    this.offsetMs += minutes * MINUTE;
  }
}

async function logIn(service: TestService, name = "Anna de Vries", browser?: Browser) {
  const user = browser ?? new Browser(service.url);
  const landed = await user.login({ organisation: BOARD.kvk, name, mandates: ["beoordelen"] });
  assert.equal(landed.status, 303, "the callback redirects after login");
  await landed.body?.cancel();
  return user;
}

function sessionCookie(browser: Browser): string {
  const value = browser.cookie(COOKIE);
  assert.ok(value, "the browser has a session cookie");
  return value;
}

/** The session id inside the signed cookie value. */
function sessionIdOf(cookie: string): string {
  return decodeURIComponent(cookie).split(".")[0]!;
}

async function statusOf(browser: Browser, path = BOARD_PAGE): Promise<number> {
  const response = await browser.request(path);
  await response.body?.cancel();
  return response.status;
}

/** A fresh browser that replays a stolen or remembered session cookie. */
function replaying(service: TestService, cookie: string): Browser {
  const browser = new Browser(service.url);
  browser.setCookie(COOKIE, cookie);
  return browser;
}

async function withService(
  fn: (service: TestService, clock: TestClock) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const clock = new TestClock();
  const service = await startTestService(env, undefined, { now: clock.now });
  try {
    await fn(service, clock);
  } finally {
    await service.close();
  }
}

Deno.test("a login never keeps a session id the browser had before (session fixation)", async () => {
  await withService(async (service) => {
    const attacker = await logIn(service, "Mallory");
    const planted = sessionCookie(attacker);
    assert.equal(await statusOf(attacker), 200, "the planted session was a live one");

    const victim = new Browser(service.url);
    victim.setCookie(COOKIE, planted);
    await logIn(service, "Anna de Vries", victim);
    const after = sessionCookie(victim);

    assert.notEqual(after, planted);
    assert.notEqual(sessionIdOf(after), sessionIdOf(planted));
    assert.equal(await statusOf(victim), 200);
    assert.equal(await statusOf(replaying(service, planted)), 401, "the planted id is invalid");

    const guessed = new Browser(service.url);
    guessed.setCookie(COOKIE, "known-session-id");
    await logIn(service, "Anna de Vries", guessed);
    assert.notEqual(sessionCookie(guessed), "known-session-id");
    assert.equal(await statusOf(replaying(service, "known-session-id")), 401);
  });
});

Deno.test("every login gets a new session id and the earlier one of that browser ends", async () => {
  await withService(async (service) => {
    const browser = await logIn(service);
    const first = sessionCookie(browser);
    await logIn(service, "Anna de Vries", browser);
    const second = sessionCookie(browser);

    assert.notEqual(sessionIdOf(first), sessionIdOf(second));
    assert.match(sessionIdOf(second), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await statusOf(browser), 200);
    assert.equal(await statusOf(replaying(service, first)), 401);

    const elsewhere = await logIn(service);
    assert.notEqual(sessionIdOf(sessionCookie(elsewhere)), sessionIdOf(second));
    assert.equal(await statusOf(browser), 200, "a login in another browser leaves this one alone");
  });
});

Deno.test("a session ends after 30 idle minutes; using it keeps it alive", async () => {
  await withService(async (service, clock) => {
    const active = await logIn(service, "Anna de Vries");
    const idle = await logIn(service, "Bram Bakker");

    clock.advanceMinutes(20);
    assert.equal(await statusOf(active), 200);
    clock.advanceMinutes(25);
    assert.equal(await statusOf(active), 200, "seen 25 minutes ago");
    assert.equal(await statusOf(idle), 401, "not seen for 45 minutes");

    clock.advanceMinutes(31);
    assert.equal(await statusOf(active), 401, "not seen for 31 minutes");
  });
});

Deno.test("a session ends at its absolute expiry however active it is", async () => {
  await withService(async (service, clock) => {
    const user = await logIn(service);
    for (let minutes = 20; minutes < 60; minutes += 20) {
      clock.advanceMinutes(20);
      assert.equal(await statusOf(user), 200, `${minutes} minutes after login`);
    }
    clock.advanceMinutes(19);
    assert.equal(await statusOf(user), 200, "59 minutes after login");
    clock.advanceMinutes(2);
    assert.equal(await statusOf(user), 401, "61 minutes after login");
  }, { AKKOORD_SESSION_MAX_HOURS: "1", AKKOORD_SESSION_IDLE_MINUTES: "30" });
});

Deno.test("logout ends the session on the server, so a replayed cookie is refused", async () => {
  await withService(async (service) => {
    const user = await logIn(service);
    const cookie = sessionCookie(user);
    await user.page(BOARD_PAGE);

    const out = await user.submit("/logout", {});
    assert.equal(out.status, 303);
    assert.equal(user.cookie(COOKIE), undefined, "the browser forgets the cookie");
    assert.equal(await statusOf(replaying(service, cookie)), 401);
  });
});

Deno.test("logout everywhere ends the person's other sessions, not other people's", async () => {
  await withService(async (service) => {
    const laptop = await logIn(service, "Anna de Vries");
    const phone = await logIn(service, "Anna de Vries");
    const colleague = await logIn(service, "Bram Bakker");
    const { html } = await laptop.page(BOARD_PAGE);
    assert.match(html, /<form method="post" action="\/logout\/everywhere"/);

    const unguarded = await laptop.request("/logout/everywhere", {
      method: "POST",
      headers: { Origin: service.url },
    });
    assert.equal(unguarded.status, 403, "without the CSRF token nothing ends");
    await unguarded.body?.cancel();
    assert.equal(await statusOf(phone), 200);

    const out = await laptop.submit("/logout/everywhere", {});
    assert.equal(out.status, 303);
    await out.body?.cancel();
    assert.equal(await statusOf(phone), 401);
    assert.equal(await statusOf(laptop), 401);
    assert.equal(await statusOf(colleague), 200);
  });
});

Deno.test("sessions survive a restart; an ended one stays ended; a lost file only logs out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-sessions-" });
  try {
    let service = await startTestService({}, dir);
    let staying: string;
    let leaving: string;
    try {
      staying = sessionCookie(await logIn(service, "Anna de Vries"));
      const user = await logIn(service, "Bram Bakker");
      leaving = sessionCookie(user);
      await user.page(BOARD_PAGE);
      assert.equal((await user.submit("/logout", {})).status, 303);
    } finally {
      await service.close();
    }

    service = await startTestService({}, dir);
    try {
      assert.equal(await statusOf(replaying(service, staying)), 200);
      assert.equal(await statusOf(replaying(service, leaving)), 401);
    } finally {
      await service.close();
    }

    await loseSessions(dir);
    service = await startTestService({}, dir);
    try {
      assert.equal(await statusOf(replaying(service, staying)), 401);
      assert.equal(await statusOf(await logIn(service)), 200, "logging in again works");
    } finally {
      await service.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The format of the disk's sessions.json; the KV side stores have tests of their own.
Deno.test(
  onlyOn("disk", "the session file holds hashes of session ids, no ids and no tokens"),
  async () => {
    await withService(async (service) => {
      const user = await logIn(service);
      const id = sessionIdOf(sessionCookie(user));
      const file = await Deno.readTextFile(`${service.dir}/sessions.json`);

      assert.ok(!file.includes(id), "no session id in plain text");
      assert.ok(file.includes(await sessionIdHash(id)), "the id's SHA-256 identifies the session");
      assert.doesNotMatch(file, /eyJ[A-Za-z0-9_-]{10,}/, "no JWT (ID or access token)");
      assert.doesNotMatch(file, /access_token|id_token|code_verifier|nonce/);
      const { sessions } = JSON.parse(file);
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].principal.name, "Anna de Vries");
      assert.equal(sessions[0].expiresAt - sessions[0].createdAt, 8 * 60 * MINUTE);
      assert.equal(sessions[0].idleTimeoutMs, 30 * MINUTE);
      const info = await Deno.stat(`${service.dir}/sessions.json`);
      assert.equal((info.mode ?? 0) & 0o777, 0o600);
    });
  },
);

Deno.test("session lifetimes and rate limits are configured, with checked values", () => {
  const defaults = readConfig({});
  assert.deepEqual(defaults.session, { idleMinutes: 30, maxHours: 8 });
  assert.deepEqual(defaults.rateLimits, { loginPerMinute: 60, tokenPerMinute: 300 });
  const chosen = readConfig({
    AKKOORD_SESSION_IDLE_MINUTES: "15",
    AKKOORD_SESSION_MAX_HOURS: "2",
    AKKOORD_RATE_LIMIT_LOGIN_PER_MINUTE: "10",
  });
  assert.deepEqual(chosen.session, { idleMinutes: 15, maxHours: 2 });
  assert.equal(chosen.rateLimits.loginPerMinute, 10);
  const refused: Record<string, string> = {
    AKKOORD_SESSION_IDLE_MINUTES: "0",
    AKKOORD_SESSION_MAX_HOURS: "1.5",
    AKKOORD_RATE_LIMIT_LOGIN_PER_MINUTE: "many",
    AKKOORD_RATE_LIMIT_TOKEN_PER_MINUTE: "-1",
  };
  for (const [name, value] of Object.entries(refused)) {
    assert.throws(() => readConfig({ [name]: value }), new RegExp(name));
  }
});
