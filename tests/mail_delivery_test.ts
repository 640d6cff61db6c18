import assert from "node:assert/strict";
import { ConfigError, DEMO_OPERATOR_KVK, readConfig } from "../config.ts";
import { digestMail, type Mail } from "../domain/mail.ts";
import { stateProjection } from "../domain/projection.ts";
import { registerOrganisations } from "../domain/registry.ts";
import { COMMITTER } from "../server.ts";
import type { HistoryStore } from "../store/history.ts";
import { providerIdempotencyKey } from "../store/mail_sender.ts";
import { openOutbox, type OutboxMail } from "../store/outbox.ts";
import { createResendSender } from "../store/resend_sender.ts";
import { mailHtml } from "../views/mail_html.ts";
import {
  acceptTerms,
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  offer,
  offeredToBoard,
  OTHER_BOARD,
  SUPPLIER,
  versionFields,
} from "./helpers/board_flow.ts";
import { type ResendStandin, startResendStandin } from "./helpers/resend_standin.ts";
import { Browser, sampleOffer, startTestService } from "./helpers/service.ts";
import {
  historyHead,
  openTestStore,
  outboxCursor,
  outboxMails,
  withTestStore,
} from "./helpers/test_store.ts";

const PROJECT = new URL("../", import.meta.url).pathname;
const FROM = "Akkoord <akkoord@mail.example>";
const BOARD_ADDRESS = `privacy@bg${BOARD.id}.besturen.example`;
const SUPPLIER_ADDRESS = "privacy@schoolwijzer-demo.example";

function resendEnv(standin: ResendStandin): Record<string, string> {
  return {
    RESEND_API_KEY: "re_test_key",
    AKKOORD_MAIL_FROM: FROM,
    AKKOORD_RESEND_URL: standin.url,
  };
}

/** The mail records of a service's outbox, read where its backend keeps them. */
function outboxRecords(dataDir: string): Promise<OutboxMail[]> {
  return outboxMails(dataDir);
}

/** Waits until no mail in the outbox is pending any more. */
async function settled(dataDir: string, timeoutMs = 15_000): Promise<OutboxMail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The cursor first: mails are stored before (or with) the cursor that
    // covers them, so records read after it include every mail up to it.
    const caughtUp = await caughtUpWithHistory(dataDir);
    const records = await outboxRecords(dataDir);
    if (caughtUp && records.every((mail) => mail.delivery.status !== "pending")) {
      return records;
    }
    if (Date.now() > deadline) {
      const pending = records.filter((mail) => mail.delivery.status === "pending");
      throw new Error(
        `Outbox (caught up: ${caughtUp}) still has ${pending.length} pending mails after ${timeoutMs} ms: ${
          JSON.stringify(pending.map((mail) => [mail.to, mail.subject, mail.delivery]))
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Whether the outbox's cursor is at the history's head. */
async function caughtUpWithHistory(dataDir: string): Promise<boolean> {
  const head = await historyHead(dataDir);
  const cursor = await outboxCursor(dataDir);
  return (cursor ?? "").trim() === head;
}

function deliveredTo(standin: ResendStandin, to: string) {
  return standin.delivered.filter((mail) => JSON.stringify(mail.to) === JSON.stringify([to]));
}

function assertDeliveredOncePerKey(standin: ResendStandin): void {
  const keys = standin.delivered.map((mail) => mail.idempotencyKey);
  assert.ok(keys.every((key) => key !== null), "every mail carries an Idempotency-Key");
  assert.equal(new Set(keys).size, keys.length, `a key was delivered twice: ${keys}`);
}

Deno.test("every event that mails sends exactly one mail per recipient, also after a restart", async () => {
  const standin = await startResendStandin();
  const dir = await Deno.makeTempDir({ prefix: "akkoord-mail-" });
  try {
    const service = await startTestService(resendEnv(standin), dir);
    const link = `${service.server.config.publicUrl}${agreementPath(BOARD.id)}`;
    try {
      const { user, shown } = await offeredToBoard(service, ["beoordelen", "ondertekenen"]);
      assert.equal((await user.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
      const sign = await user.submit(agreementPath(BOARD.id, "sign"), { ...shown, confirm: "on" });
      assert.equal(sign.status, 303);
      assert.equal((await offer(service, await sampleOffer([OTHER_BOARD.id]))).status, 201);
      const reviewer = await boardUser(service, OTHER_BOARD, ["beoordelen"]);
      await acceptTerms(reviewer, OTHER_BOARD.id);
      const other = versionFields(await agreementStatus(service, OTHER_BOARD.id));
      const rejected = await reviewer.submit(agreementPath(OTHER_BOARD.id, "reject"), {
        ...other,
        reason: "Artikel 9 is te ruim.",
      });
      assert.equal(rejected.status, 303);
      await settled(dir);
    } finally {
      await service.close();
    }
    const records = await settled(dir);
    assert.ok(records.every((mail) => mail.delivery.status === "sent"), "every mail was sent");
    assert.equal(standin.delivered.length, records.length);
    assertDeliveredOncePerKey(standin);
    for (const record of records) {
      const mail = standin.delivered.find((item) => item.idempotencyKey === record.idempotencyKey);
      assert.equal(mail?.id, record.delivery.providerId, record.idempotencyKey);
      assert.equal(record.idempotencyKey, `${record.commit}/${record.to}`);
    }

    const toBoard = deliveredTo(standin, BOARD_ADDRESS).map((mail) => mail.subject);
    assert.deepEqual(
      toBoard.sort(),
      [
        "Nieuwe verwerkersovereenkomst van Schoolwijzer Demo B.V.",
        "Verwerkersovereenkomst van Schoolwijzer Demo B.V. wacht op ondertekening",
      ].sort(),
    );
    const toSupplier = deliveredTo(standin, SUPPLIER_ADDRESS);
    assert.equal(toSupplier.length, 2);
    assert.equal(toSupplier.filter((mail) => /ondertekend$/.test(String(mail.subject))).length, 1);
    const rejection = toSupplier.find((mail) => /afgewezen$/.test(String(mail.subject)));
    assert.match(String(rejection?.text), /Reden:\n\n> Artikel 9 is te ruim\./);
    const first = deliveredTo(standin, BOARD_ADDRESS)[0]!;
    assert.equal(first.from, FROM);
    assert.match(String(first.text), /"Testovereenkomst" \(versie 1\)/);
    assert.match(String(first.html), /<html lang="nl">/);
    assert.match(String(first.html), /&quot;Testovereenkomst&quot; \(versie 1\)/);
    assert.ok(String(first.html).includes(`<a href="${link}">`), String(first.html));
    assert.ok(String(first.text).includes(link));
    assert.ok(standin.calls.every((call) => call.authorization === "Bearer re_test_key"));

    const sentBefore = standin.calls.length;
    const again = await startTestService(resendEnv(standin), dir);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await again.close();
    assert.equal(standin.calls.length, sentBefore, "a restart sends nothing again");
  } finally {
    await standin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const TEST_PROJECTION = { empty: () => null, wants: () => false, apply() {}, setHead() {} };

/** A history and an outbox over it that mails each `To` trailer of a commit, through Resend. */
async function testOutbox(
  standin: ResendStandin,
  options: { maxAttempts?: number; now?: () => Date; digest?: boolean } = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-outbox-" });
  const store = await openTestStore({
    dir,
    projection: TEST_PROJECTION,
    committer: COMMITTER,
  });
  const outbox = await openOutbox<null, Mail & { html: string }>({
    dir: `${dir}/outbox`,
    store,
    compose: (commit) =>
      commit.trailers.filter(([name]) => name === "To").map(([, to]) =>
        withHtml({
          idempotencyKey: `${commit.oid}/${to}`,
          commit: commit.oid,
          to,
          subject: commit.subject,
          text: `${commit.subject}\n`,
          content: { greeting: "Beste bestuur,", sections: [{ paragraphs: [commit.subject] }] },
          board: trailerOf(commit.trailers, "Board"),
        })
      ),
    sender: createResendSender({
      apiKey: "re_test_key",
      from: FROM,
      baseUrl: standin.url,
      timeoutMs: 300,
    }),
    retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: options.maxAttempts ?? 12 },
    ...(options.now ? { now: options.now } : {}),
    ...(options.digest ? { digest: (bucket) => withHtml(digestMail(bucket)) } : {}),
  });
  return {
    dir,
    store,
    outbox,
    async close() {
      await outbox.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function withHtml(mail: Mail): Mail & { html: string } {
  return { ...mail, html: mailHtml(mail.content, mail.subject) };
}

function trailerOf(trailers: Array<[string, string]>, name: string): string | undefined {
  return trailers.find(([key]) => key === name)?.[1];
}

async function appendEvent(
  store: HistoryStore<null>,
  subject: string,
  to: string[],
  options: { at?: Date; board?: string } = {},
): Promise<string> {
  const { oid } = await store.transact(() => ({
    commit: {
      subject,
      trailers: [
        ...to.map((address): [string, string] => ["To", address]),
        ...(options.board ? [["Board", options.board] as [string, string]] : []),
      ],
      author: { name: "Test", email: "test@akkoord.example" },
      at: options.at ?? new Date(),
      files: new Map([[`events/${crypto.randomUUID()}`, new TextEncoder().encode(subject)]]),
    },
    result: null,
  }));
  return oid!;
}

async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("a retry storm of 500, timeout, 429 and network errors still delivers exactly once", async () => {
  const standin = await startResendStandin();
  const history = await testOutbox(standin);
  try {
    standin.failNext(
      { kind: "500" },
      { kind: "hang" },
      { kind: "500" },
      { kind: "429", retryAfterSeconds: 1 },
      { kind: "500" },
      { kind: "500" },
    );
    const oid = await appendEvent(history.store, "Storm", ["storm@bestuur.example"]);
    const key = `${oid}/storm@bestuur.example`;
    const [mail] = await waitUntil(
      () => history.outbox.list(),
      (mails) => mails[0]?.delivery.status === "sent",
    );
    const calls = standin.calls.filter((call) => call.idempotencyKey === key);
    assert.deepEqual(calls.map((call) => call.status), [500, 499, 500, 429, 500, 500, 200]);
    assert.equal(mail!.delivery.attempts, 7);
    assert.ok(calls[4]!.at - calls[3]!.at >= 950, "Retry-After: 1 was honoured");
    const delivered = standin.delivered.filter((item) => item.idempotencyKey === key);
    assert.equal(delivered.length, 1, "the hung request and the retries deliver one mail");
    assert.equal(mail!.delivery.providerId, delivered[0]!.id);

    const many = Array.from({ length: 6 }, (_, i) => `ontvanger${i}@bestuur.example`);
    standin.failNext(...Array.from({ length: 15 }, () => ({ kind: "500" as const })));
    await appendEvent(history.store, "Storm voor velen", many);
    const mails = await waitUntil(
      () => history.outbox.list(),
      (list) => list.length === 7 && list.every((item) => item.delivery.status === "sent"),
    );
    assert.equal(mails.length, 7);
    for (const address of many) assert.equal(deliveredTo(standin, address).length, 1, address);
    assertDeliveredOncePerKey(standin);
  } finally {
    await history.close();
    await standin.close();
  }
});

Deno.test("permanent failures are recorded with their reason; transient ones give up when bounded", async () => {
  const standin = await startResendStandin();
  const history = await testOutbox(standin, { maxAttempts: 4 });
  try {
    standin.failFor("weigert@bestuur.example", { kind: "422" });
    standin.failFor("kapot@bestuur.example", { kind: "500" });
    const injected = "iemand@bestuur.example, ander@evil.example";
    await appendEvent(history.store, "Fouten", [
      "weigert@bestuur.example",
      "kapot@bestuur.example",
      injected,
    ]);
    const mails = await waitUntil(
      () => history.outbox.list(),
      (list) => list.length === 3 && list.every((item) => item.delivery.status === "failed"),
    );
    const byTo = new Map(mails.map((mail) => [mail.to, mail.delivery]));
    assert.equal(byTo.get("weigert@bestuur.example")?.attempts, 1);
    assert.match(byTo.get("weigert@bestuur.example")!.reason!, /422 validation_error/);
    assert.equal(byTo.get("kapot@bestuur.example")?.attempts, 4);
    assert.match(byTo.get("kapot@bestuur.example")!.reason!, /^Gave up after 4 attempts/);
    assert.match(byTo.get(injected)!.reason!, /is not one valid e-mail address/);
    assert.equal(standin.calls.filter((call) => String(call.body.to).includes("evil")).length, 0);
    assert.equal(standin.delivered.length, 0);
  } finally {
    await history.close();
    await standin.close();
  }
});

Deno.test("an idempotency key too long for Resend is hashed, the same for every attempt", async () => {
  const standin = await startResendStandin();
  const history = await testOutbox(standin);
  try {
    const label = "l".repeat(50);
    const to = `lang@${label}.${label}.${label}.${label}.voorbeeld.example`;
    standin.failNext({ kind: "500" });
    const oid = await appendEvent(history.store, "Lang adres", [to]);
    await waitUntil(() => history.outbox.list(), (list) => list[0]?.delivery.status === "sent");
    const keys = standin.calls.map((call) => call.idempotencyKey);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    assert.equal(keys[0], providerIdempotencyKey(`${oid}/${to}`));
    assert.match(keys[0]!, /^sha256-[0-9a-f]{64}$/);
    assert.equal(providerIdempotencyKey("abc/x@y.example"), "abc/x@y.example");
  } finally {
    await history.close();
    await standin.close();
  }
});

Deno.test("the daily digest bundles a board's mails of one Amsterdam day under key (board, day)", async () => {
  const standin = await startResendStandin();
  let clock = new Date("2026-12-03T10:00:00Z");
  const history = await testOutbox(standin, { now: () => clock, digest: true });
  try {
    const address = "bestuur@digest.example";
    await appendEvent(history.store, "Eerste", [address], {
      board: "41344",
      at: new Date("2026-12-03T08:00:00Z"),
    });
    await appendEvent(history.store, "Tweede", [address], {
      board: "41344",
      at: new Date("2026-12-03T23:30:00Z"),
    });
    await appendEvent(history.store, "Ander bestuur", ["ander@digest.example"], {
      board: "13603",
      at: new Date("2026-12-03T12:00:00Z"),
    });
    await appendEvent(history.store, "Leverancier", ["leverancier@digest.example"], {
      at: new Date("2026-12-03T12:00:00Z"),
    });
    await history.outbox.catchUp();
    await waitUntil(
      () => history.outbox.list(),
      (list) => list.length === 1 && list[0]!.delivery.status === "sent",
    );
    assert.deepEqual(standin.delivered.map((mail) => mail.to), [["leverancier@digest.example"]]);

    clock = new Date("2026-12-04T12:00:00Z");
    await history.outbox.catchUp();
    const first = await waitUntil(
      () => history.outbox.list(),
      (list) => list.length === 3 && list.every((item) => item.delivery.status === "sent"),
    );
    assert.deepEqual(
      first.map((mail) => mail.idempotencyKey).filter((key) => key.startsWith("digest/")).sort(),
      [
        "digest/13603/2026-12-03",
        "digest/41344/2026-12-03",
      ],
    );
    clock = new Date("2026-12-05T08:00:00Z");
    await history.outbox.catchUp();
    const mails = await waitUntil(
      () => history.outbox.list(),
      (list) => list.length === 4 && list.every((item) => item.delivery.status === "sent"),
    );
    assert.ok(
      mails.some((mail) => mail.idempotencyKey === "digest/41344/2026-12-04"),
      "00:30 in Amsterdam belongs to the next day",
    );
    const digest = standin.delivered.find((mail) =>
      mail.idempotencyKey === "digest/41344/2026-12-03"
    );
    assert.match(String(digest?.subject), /^Akkoord: overzicht van 03-12-2026 \(1 bericht\)$/);

    clock = new Date("2026-12-06T08:00:00Z");
    await history.outbox.catchUp();
    await history.outbox.deliver();
    assert.equal(standin.delivered.length, 4, "a closed digest is not sent again");
    assertDeliveredOncePerKey(standin);
  } finally {
    await history.close();
    await standin.close();
  }
});

/** The service as its own process (`main.ts`), as in production, on a free port. */
async function startChild(dir: string, env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: PROJECT,
    env: {
      AKKOORD_DATA_DIR: dir,
      AKKOORD_PORT: "0",
      AKKOORD_HOSTNAME: "127.0.0.1",
      ...await withTestStore(dir, env),
    },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!/listens on (http:\/\/\S+)/.test(output)) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`Cannot start the service process: it said "${output}"`);
    output += chunk.value;
  }
  void reader.cancel();
  return { child, url: /listens on (http:\/\/\S+)/.exec(output)![1]! };
}

async function offerTo(url: string, board: string): Promise<void> {
  const token = await fetch(`${url}/dev-broker/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: SUPPLIER }),
  });
  const { access_token } = await token.json();
  const response = await fetch(`${url}/api/v1/offers`, {
    method: "POST",
    headers: { Authorization: `Bearer ${access_token}`, "Content-Type": "application/json" },
    body: JSON.stringify(await sampleOffer([board], `Overeenkomst ${crypto.randomUUID()}`)),
  });
  assert.equal(response.status, 201, await response.text());
}

async function killed(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  assert.equal((await child.status).signal, "SIGKILL");
}

Deno.test("kill -9 between commit and send, then a restart, delivers each mail exactly once", async () => {
  const standin = await startResendStandin();
  const dir = await Deno.makeTempDir({ prefix: "akkoord-mail-kill9-" });
  const otherAddress = `privacy@bg${OTHER_BOARD.id}.besturen.example`;
  try {
    standin.failFor(BOARD_ADDRESS, { kind: "hang" });
    const first = await startChild(dir, resendEnv(standin));
    await offerTo(first.url, BOARD.id);
    await standin.waitFor((call) => JSON.stringify(call.body.to) === `["${BOARD_ADDRESS}"]`, 1);
    await killed(first.child);
    standin.failFor(BOARD_ADDRESS, null);
    const restarted = await startTestService(resendEnv(standin), dir);
    await settled(dir);
    await restarted.close();
    const calls = standin.calls.filter((call) =>
      JSON.stringify(call.body.to) === `["${BOARD_ADDRESS}"]`
    );
    assert.ok(calls.length >= 2, "the mail was sent again after the restart");
    assert.equal(new Set(calls.map((call) => call.idempotencyKey)).size, 1, "with the same key");
    assert.equal(deliveredTo(standin, BOARD_ADDRESS).length, 1);

    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      const child = await startChild(dir, resendEnv(standin));
      await offerTo(child.url, OTHER_BOARD.id);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
      await killed(child.child);
      const service = await startTestService(resendEnv(standin), dir);
      await settled(dir);
      await service.close();
    }
    const offers = deliveredTo(standin, otherAddress).filter((mail) =>
      String(mail.subject).includes("Schoolwijzer")
    );
    assert.equal(offers.length, rounds, "one mail per offer commit");
    const records = await settled(dir);
    assert.ok(records.every((mail) => mail.delivery.status === "sent"));
    assert.equal(standin.delivered.length, records.length);
    assertDeliveredOncePerKey(standin);
  } finally {
    await standin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const EVIL = {
  board: 'Bestuur X\r\nBcc: board@evil.example, "Y" <y@evil.example><script>alert(1)</script>',
  supplier: "Schoolwijzer\nBcc: supplier@evil.example <img src=x onerror=alert(2)>",
  title: 'Titel\r\nBcc: title@evil.example <a href="https://evil.example">klik</a>',
  reason: "Reden\r\n\r\nBcc: reason@evil.example <b>vet</b>",
  address: "privacy@bestuur.example\r\nBcc: address@evil.example",
};

/** Renames the test board and supplier and breaks the other board's address, with the service stopped. */
async function registerEvilNames(dir: string): Promise<void> {
  const store = await openTestStore({ dir, projection: stateProjection, committer: COMMITTER });
  try {
    const board = store.state.boards.get(BOARD.id)!;
    const other = store.state.boards.get(OTHER_BOARD.id)!;
    const supplier = store.state.suppliers.get(SUPPLIER)!;
    await store.transact((state) =>
      registerOrganisations(state, {
        boards: [{ ...board, name: EVIL.board }, { ...other, contactEmail: EVIL.address }],
        suppliers: [{ ...supplier, name: EVIL.supplier }],
        at: new Date(),
      })
    );
  } finally {
    await store.close();
  }
}

Deno.test("names, titles, reasons and addresses inject no header and no markup; failures show to admins", async () => {
  const standin = await startResendStandin();
  const dir = await Deno.makeTempDir({ prefix: "akkoord-mail-evil-" });
  try {
    await (await startTestService({}, dir)).close();
    await registerEvilNames(dir);
    const env = { ...resendEnv(standin), AKKOORD_DEMO_DATA: "false" };
    const service = await startTestService(env, dir);
    try {
      standin.failFor(`privacy@bg13586.besturen.example`, { kind: "422" });
      const offered = await offer(
        service,
        await sampleOffer([BOARD.id, OTHER_BOARD.id, "13586"], EVIL.title),
      );
      assert.equal(offered.status, 201, await offered.text());
      const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
      await acceptTerms(reviewer, BOARD.id);
      const shown = versionFields(await agreementStatus(service, BOARD.id));
      const rejected = await reviewer.submit(agreementPath(BOARD.id, "reject"), {
        ...shown,
        reason: EVIL.reason,
      });
      assert.equal(rejected.status, 303);
      await settled(dir);

      const mails = standin.delivered;
      assert.ok(deliveredTo(standin, BOARD_ADDRESS).length === 1, "the board got its offer");
      assert.ok(deliveredTo(standin, SUPPLIER_ADDRESS).length === 1, "the supplier its rejection");
      for (const mail of mails) {
        assert.equal(mail.from, FROM);
        assert.ok(Array.isArray(mail.to) && mail.to.length === 1, JSON.stringify(mail.to));
        assert.doesNotMatch(String(mail.to[0]), /evil|[\s,<>]/);
        assert.doesNotMatch(String(mail.subject), /[\r\n<>,"]/);
        const html = String(mail.html);
        assert.doesNotMatch(html, /<script|<img|<b>|<a href="https:\/\/evil/);
        assert.doesNotMatch(String(mail.text), /\r|\nBcc:/);
      }
      const offerMail = deliveredTo(standin, BOARD_ADDRESS)[0]!;
      assert.match(String(offerMail.html), /&lt;script>alert\(1\)&lt;\/script>|&lt;script&gt;/);
      assert.match(
        String(offerMail.subject),
        /^Nieuwe verwerkersovereenkomst van Schoolwijzer Bcc: /,
      );
      const rejection = deliveredTo(standin, SUPPLIER_ADDRESS)[0]!;
      assert.match(
        String(rejection.text),
        /Reden:\n\n> Reden\n>\n> Bcc: reason@evil\.example <b>vet<\/b>/,
      );
      assert.match(String(rejection.html), /&lt;b>vet&lt;\/b>|&lt;b&gt;vet/);
      assert.equal(
        standin.calls.filter((call) => JSON.stringify(call.body).includes("address@evil")).length,
        0,
      );

      const admin = new Browser(service.url);
      await admin.login({
        organisation: DEMO_OPERATOR_KVK,
        name: "Ada Beheer",
        mandates: ["beheer"],
      });
      const page = await admin.page("/admin/mail");
      assert.equal(page.status, 200);
      const failed =
        /<section aria-labelledby="mislukt">([\s\S]*?)<\/section>/.exec(page.html)?.[1] ?? "";
      assert.match(failed, /Mislukte berichten \(2\)/);
      assert.match(failed, /privacy@bg13586\.besturen\.example/);
      assert.match(failed, /422 validation_error/);
      assert.match(failed, /is not one valid e-mail address/);
      assert.match(failed, /Blijvend probleem: de maildienst weigert dit bericht/);
      assert.match(failed, /Adres ongeldig: dit is niet één geldig e-mailadres/);
      assert.doesNotMatch(page.html, /<script>alert/);
      const reviewerPage = await reviewer.page("/admin/mail");
      assert.equal(reviewerPage.status, 403);
    } finally {
      await service.close();
    }
  } finally {
    await standin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mail configuration is checked at start-up", () => {
  const base = { AKKOORD_DATA_DIR: "/tmp/none" };
  assert.equal(readConfig(base).mail.resend, null);
  assert.equal(readConfig(base).mail.digest, "off");
  assert.throws(() => readConfig({ ...base, RESEND_API_KEY: "re_x" }), ConfigError);
  assert.throws(
    () =>
      readConfig({
        ...base,
        RESEND_API_KEY: "re_x",
        AKKOORD_MAIL_FROM: "A <a@b.example>\r\nBcc: c@d.example",
      }),
    /AKKOORD_MAIL_FROM is not valid/,
  );
  assert.throws(
    () =>
      readConfig({
        ...base,
        RESEND_API_KEY: "re_x",
        AKKOORD_MAIL_FROM: "a@b.example, c@d.example",
      }),
    /AKKOORD_MAIL_FROM is not valid/,
  );
  assert.throws(
    () => readConfig({ ...base, AKKOORD_MAIL_DIGEST: "weekly" }),
    /AKKOORD_MAIL_DIGEST/,
  );
  const config = readConfig({
    ...base,
    RESEND_API_KEY: "re_secret",
    AKKOORD_MAIL_FROM: "Akkoord <akkoord@mail.example>",
    AKKOORD_RESEND_URL: "http://127.0.0.1:9/",
    AKKOORD_MAIL_DIGEST: "daily",
  });
  assert.deepEqual(config.mail, {
    resend: {
      apiKey: "re_secret",
      from: "Akkoord <akkoord@mail.example>",
      baseUrl: "http://127.0.0.1:9",
    },
    digest: "daily",
  });
});
