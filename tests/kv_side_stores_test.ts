/// <reference lib="deno.unstable" />
import assert from "node:assert/strict";
import { COMMITTER } from "../server.ts";
import { openKvSessionRecords } from "../store/kv_sessions.ts";
import { openKvAccessTokens } from "../store/kv_access_tokens.ts";
import { createKvJtiReplayCache } from "../store/kv_jti_replay_cache.ts";
import { openKvNotificationAddresses } from "../store/kv_notification_addresses.ts";
import { loadOrCreateKvSecret } from "../store/kv_secrets.ts";
import { kvOutboxStorage } from "../store/kv_outbox.ts";
import { openKvStore } from "../store/kv_store.ts";
import { type ComposedMail, openOutboxIn, type OutboxMail } from "../store/outbox.ts";
import { generateSigningKey } from "../store/signing_key.ts";
import { createResendSender } from "../store/resend_sender.ts";
import type { HistoryStore } from "../store/history.ts";
import { startResendStandin } from "./helpers/resend_standin.ts";
import { BOARD, OTHER_BOARD, SUPPLIER } from "./helpers/board_flow.ts";
import {
  sampleOffer,
  startTestService,
  supplierToken,
  type TestService,
} from "./helpers/service.ts";

const MINUTE = 60_000;

/** Two handles on one fresh KV file, as two instances of the service would hold. */
async function withTwoHandles(fn: (a: Deno.Kv, b: Deno.Kv) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-side-" });
  const a = await Deno.openKv(`${dir}/state.kv`);
  const b = await Deno.openKv(`${dir}/state.kv`);
  try {
    await fn(a, b);
  } finally {
    a.close();
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function everyValue(kv: Deno.Kv): Promise<string> {
  const parts: string[] = [];
  for await (const entry of kv.list({ prefix: [] })) parts.push(JSON.stringify(entry));
  return parts.join("\n");
}

const owner = { subject: "subject-1", organisation: "01087061" };
const principal = { ...owner, name: "Anna" };
const parsePrincipal = (value: unknown) =>
  typeof value === "object" && value !== null && "subject" in value
    ? value as typeof principal
    : null;

Deno.test("KV sessions: found until idle or past their end, ended on every handle", () =>
  withTwoHandles(async (a, b) => {
    let clock = Date.parse("2026-12-04T10:00:00Z");
    const now = () => new Date(clock);
    const first = openKvSessionRecords({ kv: a, parsePrincipal, now });
    const second = openKvSessionRecords({ kv: b, parsePrincipal, now });
    const settings = { principal, csrf: "c".repeat(32), maxAgeMs: 60 * MINUTE };
    const { id } = await first.create({ ...settings, idleTimeoutMs: 30 * MINUTE });
    assert.ok(!(await everyValue(a)).includes(id), "only the hash of the id is stored");
    assert.equal((await second.find(id))?.principal.subject, owner.subject);

    clock += 20 * MINUTE;
    assert.ok(await second.find(id), "seen after 20 minutes, which restarts the idle time");
    await second.close();
    clock += 25 * MINUTE;
    assert.ok(await first.find(id), "45 minutes after login, 25 after last seen: live");
    clock += 16 * MINUTE;
    assert.equal(await first.find(id), null, "past its absolute end of 60 minutes");

    const idle = await first.create({ ...settings, idleTimeoutMs: 5 * MINUTE });
    clock += 6 * MINUTE;
    assert.equal(await second.find(idle.id), null, "idle for longer than 5 minutes");

    const one = await first.create({ ...settings, idleTimeoutMs: 30 * MINUTE });
    const two = await first.create({ ...settings, idleTimeoutMs: 30 * MINUTE });
    assert.equal(await second.removeAllOf(owner), 2);
    assert.equal(await first.find(one.id), null);
    assert.equal(await first.find(two.id), null);
    const replacing = await first.create({ ...settings, idleTimeoutMs: 30 * MINUTE });
    const replaced = await first.create({
      ...settings,
      idleTimeoutMs: 30 * MINUTE,
      replacing: replacing.id,
    });
    assert.equal(await second.find(replacing.id), null, "a login ends the session it replaces");
    assert.ok(await second.remove(replaced.id));
    assert.equal(await first.find(replaced.id), null);
    await first.close();
  }));

Deno.test("KV sessions: a session past its end is not found, whatever KV still holds", () =>
  withTwoHandles(async (a) => {
    const records = openKvSessionRecords({ kv: a, parsePrincipal });
    const { id } = await records.create({
      principal,
      csrf: "c".repeat(32),
      maxAgeMs: 80,
      idleTimeoutMs: MINUTE,
    });
    assert.ok(await records.find(id));
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(await records.find(id), null, "the times are checked as well as expireIn");
  }));

Deno.test("KV access tokens: only the hash is kept, and a revocation holds on every handle", () =>
  withTwoHandles(async (a, b) => {
    const first = await openKvAccessTokens({ kv: a });
    const second = await openKvAccessTokens({ kv: b });
    const { token, secret } = await first.createToken({
      owner: { ...owner, name: "Anna" },
      roles: ["auditor"],
      label: "Audit 2026",
    });
    assert.ok(!(await everyValue(a)).includes(secret), "the secret is not stored");
    assert.equal((await second.verify(secret))?.id, token.id);
    const altered = secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A");
    assert.equal(await second.verify(altered), null, "a secret one character off");
    assert.equal(await second.revoke(token.id, { ...owner, subject: "someone-else" }), false);
    assert.ok(await second.revoke(token.id, owner));
    assert.equal(await first.verify(secret), null, "revoked on the other handle");
    assert.deepEqual(first.list(owner).map((t) => t.id), [token.id], "listed until reloaded");
    assert.deepEqual(second.list(owner), []);
    await first.close();
    await second.close();
  }));

Deno.test("KV access tokens: an expired token is refused", () =>
  withTwoHandles(async (a) => {
    let clock = Date.now();
    const tokens = await openKvAccessTokens({ kv: a, now: () => new Date(clock) });
    const { secret } = await tokens.createToken({
      owner: { ...owner, name: "Anna" },
      roles: ["admin"],
      label: "Kort",
      expiresInDays: 1,
    });
    assert.ok(await tokens.verify(secret));
    clock += 25 * 60 * MINUTE;
    assert.equal(await tokens.verify(secret), null);
    await tokens.close();
  }));

Deno.test("KV jti cache: an assertion id is fresh once, across two handles on one file", () =>
  withTwoHandles(async (a, b) => {
    const now = Date.now();
    const first = createKvJtiReplayCache(a);
    const second = createKvJtiReplayCache(b);
    assert.equal(await first.remember("99000001 jti-1", now + MINUTE, now), "fresh");
    assert.equal(await second.remember("99000001 jti-1", now + MINUTE, now), "replayed");
    const outcomes = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => (i % 2 ? first : second).remember("99000001 jti-2", now + MINUTE, now),
      ),
    );
    assert.deepEqual(outcomes.filter((outcome) => outcome === "fresh").length, 1);
    assert.equal(
      await second.remember("99000001 jti-1", now + 3 * MINUTE, now + 2 * MINUTE),
      "fresh",
      "an id whose assertion expired may come again",
    );
  }));

Deno.test("KV notification addresses and development secrets are shared by handles", () =>
  withTwoHandles(async (a, b) => {
    const first = await openKvNotificationAddresses({ kv: a });
    await first.save({
      board: BOARD.id,
      subject: owner.subject,
      name: "Anna",
      email: "anna@bestuur.example",
      mandates: ["ondertekenen"],
    });
    const second = await openKvNotificationAddresses({ kv: b });
    assert.deepEqual(second.holders(BOARD.id, "ondertekenen"), ["anna@bestuur.example"]);
    assert.deepEqual(second.holders(BOARD.id, "beoordelen"), []);
    assert.ok(await second.remove(BOARD.id, owner.subject));
    assert.equal(second.find(BOARD.id, owner.subject), null);
    assert.equal(await second.remove(BOARD.id, owner.subject), false);
    await first.close();
    await second.close();

    const secrets = await Promise.all([
      loadOrCreateKvSecret(a, "session_secret", () => "from-a"),
      loadOrCreateKvSecret(b, "session_secret", () => "from-b"),
    ]);
    assert.equal(secrets[0], secrets[1], "both instances use the one secret written first");
    assert.equal(await loadOrCreateKvSecret(b, "session_secret", () => "late"), secrets[0]);
  }));

const TEST_PROJECTION = { empty: () => null, wants: () => false, apply() {}, setHead() {} };

function mailsOf(commit: { oid: string; subject: string; trailers: Array<[string, string]> }) {
  return commit.trailers.filter(([name]) => name === "To").map(([, to]) => ({
    idempotencyKey: `${commit.oid}/${to}`,
    commit: commit.oid,
    to,
    subject: commit.subject,
    text: `${commit.subject}\n`,
    html: `<p>${commit.subject}</p>`,
  }));
}

async function appendMailing(store: HistoryStore<null>, subject: string, to: string[]) {
  await store.transact(() => ({
    commit: {
      subject,
      trailers: to.map((address): [string, string] => ["To", address]),
      author: { name: "Test", email: "test@akkoord.invalid" },
      at: new Date(),
      files: new Map([[`mail/${subject}.txt`, new TextEncoder().encode(subject)]]),
    },
    result: null,
  }));
}

async function storedMails(kv: Deno.Kv): Promise<OutboxMail[]> {
  const entries = await Array.fromAsync(
    kv.list<OutboxMail>({ prefix: ["akkoord", "outbox", "mails"] }),
  );
  return entries.map((entry) => entry.value);
}

Deno.test("KV outbox: two instances store each mail once and move the cursor with them", () =>
  withTwoHandles(async (a, b) => {
    const { key } = await generateSigningKey();
    const history = { projection: TEST_PROJECTION, committer: COMMITTER, signingKey: key };
    const store = await openKvStore({ ...history, kv: a });
    for (let i = 0; i < 5; i++) {
      await appendMailing(store, `event-${i}`, [`a${i}@x.example`, `b${i}@x.example`]);
    }
    const other = await openKvStore({ ...history, kv: b });
    const settings = { compose: mailsOf };
    const [first, second] = await Promise.all([
      openOutboxIn(kvOutboxStorage<ComposedMail>(a), { ...settings, store }),
      openOutboxIn(kvOutboxStorage<ComposedMail>(b), { ...settings, store: other }),
    ]);
    await Promise.all([first.catchUp(), second.catchUp()]);
    const mails = await storedMails(a);
    assert.equal(mails.length, 10);
    assert.equal(new Set(mails.map((mail) => mail.idempotencyKey)).size, 10);
    assert.equal((await a.get(["akkoord", "outbox", "cursor"])).value, store.head());
    assert.ok(mails.every((mail) => mail.delivery.status === "local"));
    await first.close();
    await second.close();
    await store.close();
    await other.close();
  }));

Deno.test("KV outbox: a restart sends no mail twice and misses none", async () => {
  const standin = await startResendStandin();
  try {
    await withTwoHandles(async (a, b) => {
      const { key } = await generateSigningKey();
      const history = { projection: TEST_PROJECTION, committer: COMMITTER, signingKey: key };
      const settings = {
        compose: mailsOf,
        sender: createResendSender({
          apiKey: "re_test_key",
          from: "Akkoord <akkoord@mail.example>",
          baseUrl: standin.url,
          timeoutMs: 2_000,
        }),
        retry: { baseDelayMs: 20, maxDelayMs: 200 },
      };
      const store = await openKvStore({ ...history, kv: a });
      const outbox = await openOutboxIn(kvOutboxStorage<ComposedMail>(a), { ...settings, store });
      await appendMailing(store, "before", ["one@x.example", "two@x.example"]);
      await standin.waitFor(() => true, 2, 10_000);
      await outbox.close();
      // Appended while no outbox runs: the next one catches up from the cursor.
      await appendMailing(store, "between", ["three@x.example"]);
      await store.close();

      const restarted = await openKvStore({ ...history, kv: b });
      const again = await openOutboxIn(kvOutboxStorage<ComposedMail>(b), {
        ...settings,
        store: restarted,
      });
      await appendMailing(restarted, "after", ["four@x.example"]);
      await standin.waitFor(() => true, 4, 10_000);
      await again.deliver();
      await again.close();
      await restarted.close();
      const keys = standin.calls.map((call) => call.idempotencyKey);
      assert.equal(keys.length, 4, JSON.stringify(keys));
      assert.equal(new Set(keys).size, 4);
      const mails = await storedMails(b);
      assert.deepEqual(mails.map((mail) => mail.delivery.status), Array(4).fill("sent"));
    });
  } finally {
    await standin.close();
  }
});

async function offerWithKey(service: TestService, body: unknown, key: string) {
  const response = await fetch(`${service.url}/api/v1/offers`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}`,
      "Content-Type": "application/json",
      "Idempotency-Key": key,
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    replayed: response.headers.get("Idempotent-Replayed"),
    body: await response.json(),
  };
}

Deno.test("KV idempotency keys: replayed and refused by another instance and after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-idem-" });
  const env = { AKKOORD_STORE: "kv" };
  let first: TestService | undefined;
  let second: TestService | undefined;
  try {
    first = await startTestService(env, dir);
    second = await startTestService(env, dir);
    const body = await sampleOffer([BOARD.id]);
    const made = await offerWithKey(first, body, "kv-key-1");
    assert.equal(made.status, 201);
    const replay = await offerWithKey(second, body, "kv-key-1");
    assert.equal(replay.replayed, "true", "the other instance replays the answer");
    assert.deepEqual(replay.body, made.body);
    const other = await offerWithKey(second, await sampleOffer([OTHER_BOARD.id]), "kv-key-1");
    assert.equal(other.status, 422);
    assert.equal(other.body.type, "urn:akkoord:problem:idempotency_key_reused");

    const parallel = await Promise.all(
      [first, second, first, second].map(async (service, i) =>
        await offerWithKey(
          service,
          { ...body, text: `${body.text}\nVariant ${i}.\n` },
          "kv-key-2",
        )
      ),
    );
    assert.deepEqual(parallel.map((answer) => answer.status).sort(), [201, 422, 422, 422]);

    await first.close();
    first = undefined;
    first = await startTestService(env, dir);
    const afterRestart = await offerWithKey(first, body, "kv-key-1");
    assert.equal(afterRestart.replayed, "true");
    assert.deepEqual(afterRestart.body, made.body);
  } finally {
    await first?.close();
    await second?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotate-key with AKKOORD_STORE=kv explains the procedure and touches nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-rotate-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-env", "rotate_key.ts"],
      cwd: new URL("../", import.meta.url).pathname,
      env: { AKKOORD_STORE: "kv", AKKOORD_DATA_DIR: `${dir}/data`, NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 2, stderr);
    assert.match(stderr, /deno task export .* --kv/);
    assert.match(stderr, /rotate-key --data-dir <copy>/);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), [], "no data directory is made");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
