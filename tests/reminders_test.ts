import assert from "node:assert/strict";
import { ConfigError, readConfig } from "../config.ts";
import { startServer } from "../server.ts";
import {
  acceptTerms,
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  OTHER_BOARD,
  SUPPLIER,
  versionFields,
} from "./helpers/board_flow.ts";
import { git } from "./helpers/git.ts";
import { brokerSignedToken, Browser, sampleOffer, type TestService } from "./helpers/service.ts";
import { commitTree, setMain, treeWith } from "./helpers/tamper.ts";
import { runVerify } from "./helpers/verify_cli.ts";
import { historyGitDir, outboxMails, signingKeyFile, withTestStore } from "./helpers/test_store.ts";

const DAY = 24 * 60 * 60 * 1000;
const KEY = `${BOARD.id}/${SUPPLIER}`;
const REVIEWER_ADDRESS = "rita.beoordelaar@bestuur.example";
const SIGNATORY_ADDRESS = "sander.tekenaar@bestuur.example";
const OTHER_BOARD_ADDRESS = "olga@anderbestuur.example";

/** A clock the test moves; the service starts it in the past so that logins at "now" still work. */
class TestClock {
  offsetMs = 0;
  now = (): Date => new Date(Date.now() + this.offsetMs);

  /** Sets the clock `days` days from the real time (negative: in the past). */
  at(days: number): void {
    this.offsetMs = days * DAY;
  }
}

/** A commit as the test reads it with stock git. */
interface LoggedCommit {
  oid: string;
  trailers: Record<string, string>;
}

/** A mail as the outbox keeps it on disk. */
interface StoredMail {
  commit: string;
  to: string;
  subject: string;
  text: string;
}

async function withClockedService(
  startDay: number,
  fn: (service: TestService, clock: TestClock) => Promise<void>,
  intervalMs?: number,
): Promise<void> {
  const clock = new TestClock();
  clock.at(startDay);
  const dir = await Deno.makeTempDir({ prefix: "akkoord-reminders-" });
  const server = await startServer(
    {
      AKKOORD_DATA_DIR: dir,
      AKKOORD_PORT: "0",
      AKKOORD_HOSTNAME: "127.0.0.1",
      AKKOORD_RATE_LIMIT_LOGIN_PER_MINUTE: "10000",
      ...await withTestStore(dir),
    },
    { now: clock.now, log: () => {}, ...(intervalMs ? { reminderIntervalMs: intervalMs } : {}) },
  );
  const service: TestService = {
    url: server.url,
    dir,
    server,
    log: [],
    close: () => server.close(),
  };
  try {
    await fn(service, clock);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Offers the sample to {@link BOARD} at the service's clock, with a token issued at that time. */
async function offerAt(service: TestService, clock: TestClock): Promise<void> {
  const issued = Math.floor(clock.now().getTime() / 1000);
  const token = await brokerSignedToken(service, { iat: issued, nbf: issued, exp: issued + 600 });
  const response = await fetch(`${service.url}/api/v1/offers`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(await sampleOffer([BOARD.id])),
  });
  assert.equal(response.status, 201, await response.text());
}

/** The commits of an event about {@link KEY}, oldest first, read with stock git. */
async function eventsOf(service: TestService, event: string): Promise<LoggedCommit[]> {
  const out = await git([
    "--git-dir",
    await historyGitDir(service.dir),
    "log",
    "--reverse",
    "--format=%H%x00%(trailers:unfold)%x01",
    "main",
  ]);
  return out.split("\x01").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const [oid, block] = entry.split("\x00") as [string, string];
    const trailers: Record<string, string> = {};
    for (const line of block.split("\n")) {
      const at = line.indexOf(": ");
      if (at > 0) trailers[line.slice(0, at)] = line.slice(at + 2);
    }
    return { oid, trailers };
  }).filter((commit) =>
    commit.trailers.Event === event && commit.trailers.Agreement?.startsWith(`${KEY} version`)
  );
}

/** The mails the outbox composed for one commit, after it caught up. */
async function mailsOf(service: TestService, commit: string): Promise<StoredMail[]> {
  await (await fetch(`${service.url}/dev/outbox`)).body?.cancel();
  const mails: StoredMail[] = (await outboxMails(service.dir)).filter((mail) =>
    mail.commit === commit
  );
  return mails.sort((a, b) => a.to.localeCompare(b.to));
}

async function contactOf(service: TestService, board: string): Promise<string> {
  const file = await git([
    "--git-dir",
    await historyGitDir(service.dir),
    "show",
    `main:boards/${board}.json`,
  ]);
  return JSON.parse(file).contactEmail;
}

/** Registers a person's notification address through "Mijn meldingen". */
async function registerAddress(browser: Browser, board: string, email: string): Promise<void> {
  const page = await browser.page(`/boards/${board}/notifications`);
  assert.equal(page.status, 200);
  const saved = await browser.submit(`/boards/${board}/notifications`, { email });
  assert.equal(saved.status, 303);
  const shown = await browser.page(`/boards/${board}/notifications`);
  assert.match(shown.html, new RegExp(email.replace(".", "\\.")));
}

async function verifyHistory(service: TestService): Promise<string> {
  const signers = `${service.dir}/published_allowed_signers`;
  const published = await fetch(`${service.url}/.well-known/akkoord/allowed_signers`);
  await Deno.writeTextFile(signers, await published.text());
  const result = await runVerify([
    await historyGitDir(service.dir),
    "--allowed-signers",
    signers,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /reminded \d+/);
  assert.match(result.stdout, /escalated \d+/);
  return signers;
}

/**
 * Appends a second reminder of the same step, signed with the service's
 * real key, to a copy of the history: the verifier must refuse it.
 */
async function forgeSecondReminder(service: TestService, signers: string): Promise<void> {
  const copy = `${service.dir}/forged.git`;
  await git(["clone", "--bare", "--quiet", await historyGitDir(service.dir), copy]);
  const reminder = (await eventsOf(service, "reminded"))[0]!;
  const message = await git(["--git-dir", copy, "log", "-1", "--format=%B", reminder.oid]);
  const head = (await git(["--git-dir", copy, "rev-parse", "main"])).trim();
  const path = `agreements/${KEY}/reminders.json`;
  const record = JSON.parse(await git(["--git-dir", copy, "show", `main:${path}`]));
  record.remindedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const tree = await treeWith(copy, head, { [path]: JSON.stringify(record, null, 2) + "\n" });
  const forged = await commitTree(copy, {
    tree,
    parent: head,
    message,
    key: await signingKeyFile(service.dir),
  });
  await setMain(copy, forged);
  const result = await runVerify([copy, "--allowed-signers", signers]);
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stderr, /had its reminded already/);
}

Deno.test("an offer waiting 7 days is reminded once and at 14 days escalated once, to the right people", async () => {
  await withClockedService(-15, async (service, clock) => {
    await offerAt(service, clock);
    const contact = await contactOf(service, BOARD.id);

    clock.offsetMs = -15 * DAY + 7 * DAY - 60_000;
    await service.server.reminders.runOnce();
    assert.equal((await eventsOf(service, "reminded")).length, 0, "not due a minute early");

    clock.at(-8);
    await service.server.reminders.runOnce();
    await service.server.reminders.runOnce();
    await Promise.all([service.server.reminders.runOnce(), service.server.reminders.runOnce()]);
    const reminders = await eventsOf(service, "reminded");
    assert.equal(reminders.length, 1, "one reminder, however often the scheduler runs");
    assert.equal(reminders[0]!.trailers.Step, "review");
    assert.equal(reminders[0]!.trailers.Agreement, `${KEY} version 1`);
    const reminderMails = await mailsOf(service, reminders[0]!.oid);
    assert.deepEqual(reminderMails.map((mail) => mail.to), [contact]);
    assert.match(reminderMails[0]!.subject, /^Herinnering: .* wacht op beoordeling$/);
    assert.match(reminderMails[0]!.text, /wacht al 7 dagen op beoordeling/);

    clock.at(0);
    const reviewer = await boardUser(service, BOARD, ["beoordelen"], "Rita Beoordelaar");
    await registerAddress(reviewer, BOARD.id, REVIEWER_ADDRESS);
    const signatory = await boardUser(service, BOARD, ["ondertekenen"], "Sander Tekenaar");
    await registerAddress(signatory, BOARD.id, SIGNATORY_ADDRESS);
    assert.doesNotMatch((await signatory.page(`/boards/${BOARD.id}/notifications`)).html, /rita/);
    const other = await boardUser(service, OTHER_BOARD, ["beoordelen"], "Olga Anderbestuur");
    await registerAddress(other, OTHER_BOARD.id, OTHER_BOARD_ADDRESS);
    const refused = await other.page(`/boards/${BOARD.id}/notifications`);
    assert.equal(refused.status, 403, "another board's person cannot see this board's page");
    assert.doesNotMatch(refused.html, /rita|sander/);

    clock.at(-1);
    const runs = await Promise.all([
      service.server.reminders.runOnce(),
      service.server.reminders.runOnce(),
    ]);
    assert.ok(runs.reduce((a, b) => a + b, 0) >= 1);
    await service.server.reminders.runOnce();
    const escalations = await eventsOf(service, "escalated");
    assert.equal(escalations.length, 1, "one escalation, also with two schedulers at once");
    assert.equal((await eventsOf(service, "reminded")).length, 1);
    const escalationMails = await mailsOf(service, escalations[0]!.oid);
    assert.deepEqual(escalationMails.map((mail) => mail.to), [contact, REVIEWER_ADDRESS].sort());
    for (const mail of escalationMails) {
      assert.match(mail.subject, /^Dringend: .* wacht al 14 dagen op beoordeling$/);
      assert.match(mail.text, new RegExp(`${agreementPath(BOARD.id)}`));
    }

    clock.at(0);
    const supplier = new Browser(service.url);
    await supplier.login({ organisation: SUPPLIER, name: "Sam Leverancier", mandates: [] });
    const overview = await supplier.page(`/suppliers/${SUPPLIER}`);
    const row = new RegExp(`Stichting Van Hall Larenstein[\\s\\S]*?</tr>`).exec(overview.html)?.[0];
    assert.ok(row, "the overview has a row for the board");
    assert.match(row, /15 dagen/);
    const day = (offset: number) =>
      new Intl.DateTimeFormat("nl-NL", {
        day: "numeric",
        month: "long",
        year: "numeric",
        timeZone: "Europe/Amsterdam",
      }).format(new Date(Date.now() + offset * DAY));
    assert.ok(row.includes(day(-8)), `reminded on ${day(-8)}`);
    assert.ok(row.includes(day(-1)), `escalated on ${day(-1)}`);

    await forgeSecondReminder(service, await verifyHistory(service));
  });
});

Deno.test("approving ends the review reminders and starts the clock for signing", async () => {
  await withClockedService(-10, async (service, clock) => {
    await offerAt(service, clock);
    clock.at(-3);
    await service.server.reminders.runOnce();
    assert.equal((await eventsOf(service, "reminded")).length, 1);

    clock.at(0);
    const person = await boardUser(service, BOARD, ["beoordelen", "ondertekenen"], "Bo Beide");
    await acceptTerms(person, BOARD.id);
    await registerAddress(person, BOARD.id, SIGNATORY_ADDRESS);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    assert.equal((await person.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
    const approvedAt = (await agreementStatus(service, BOARD.id)).history.at(-1).at;

    clock.at(4);
    await service.server.reminders.runOnce();
    assert.equal((await eventsOf(service, "reminded")).length, 1, "no more review reminders");
    assert.equal((await eventsOf(service, "escalated")).length, 0, "the review is not escalated");

    clock.at(7);
    await service.server.reminders.runOnce();
    const reminders = await eventsOf(service, "reminded");
    assert.equal(reminders.length, 2);
    assert.equal(reminders[1]!.trailers.Step, "signature");
    assert.equal(reminders[1]!.trailers["Waiting-Since"], approvedAt);
    const mails = await mailsOf(service, reminders[1]!.oid);
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.subject, /wacht op ondertekening$/);

    clock.at(14);
    await service.server.reminders.runOnce();
    const escalations = await eventsOf(service, "escalated");
    assert.equal(escalations.length, 1);
    assert.equal(escalations[0]!.trailers.Step, "signature");
    const escalated = await mailsOf(service, escalations[0]!.oid);
    assert.ok(escalated.some((mail) => mail.to === SIGNATORY_ADDRESS));

    await verifyHistory(service);
  });
});

Deno.test("the scheduler runs by itself at its interval", async () => {
  await withClockedService(-8, async (service, clock) => {
    await offerAt(service, clock);
    clock.at(0);
    const deadline = Date.now() + 10_000;
    while ((await eventsOf(service, "reminded")).length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal((await eventsOf(service, "reminded")).length, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await eventsOf(service, "reminded")).length, 1, "later runs add nothing");
  }, 25);
});

Deno.test("reminder days are configured, with defaults 7 and 14; escalation must come later", () => {
  assert.deepEqual(readConfig({}).reminders, { reminderDays: 7, escalationDays: 14 });
  const set = readConfig({ AKKOORD_REMINDER_DAYS: "3", AKKOORD_ESCALATION_DAYS: "5" });
  assert.deepEqual(set.reminders, { reminderDays: 3, escalationDays: 5 });
  assert.throws(
    () => readConfig({ AKKOORD_REMINDER_DAYS: "10", AKKOORD_ESCALATION_DAYS: "10" }),
    ConfigError,
  );
  assert.throws(() => readConfig({ AKKOORD_REMINDER_DAYS: "0" }), /AKKOORD_REMINDER_DAYS/);
});
