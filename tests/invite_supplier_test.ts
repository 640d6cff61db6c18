import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import { type Principal, SYSTEM_ACTOR } from "../domain/actor.ts";
import { inviteSupplier } from "../domain/invite_supplier.ts";
import { stateProjection } from "../domain/projection.ts";
import { emptyState } from "../domain/state.ts";
import { COMMITTER } from "../server.ts";
import {
  acceptTerms,
  BOARD,
  boardUser,
  headOf,
  OTHER_BOARD,
  SUPPLIER,
  withService,
} from "./helpers/board_flow.ts";
import { git } from "./helpers/git.ts";
import { Browser, startTestService, type TestService } from "./helpers/service.ts";
import { runVerify } from "./helpers/verify_cli.ts";
import { historyGitDir, openTestStore, outboxMails } from "./helpers/test_store.ts";

const INVITE = `/boards/${BOARD.id}/invite`;
const VALID = {
  supplierName: "Lesmateriaal Noord B.V.",
  email: "privacy@lesmateriaal-noord.example",
  message: "Beste mensen,\r\n\r\nWilt u uw overeenkomst voortaan via Akkoord aanbieden?\r\n",
};

/** The outbox's mails by idempotency key, once the outbox caught up. */
async function outboxKeys(service: TestService): Promise<string[]> {
  await (await fetch(`${service.url}/dev/outbox`)).body?.cancel();
  return (await outboxMails(service.dir)).map((mail) => mail.idempotencyKey).sort();
}

async function mailsOf(
  service: TestService,
  commit: string,
): Promise<Array<{ to: string; subject: string; text: string; html: string }>> {
  await outboxKeys(service);
  return (await outboxMails(service.dir)).filter((mail) => mail.commit === commit);
}

async function showAtHead(service: TestService, path: string): Promise<string> {
  return await git(["--git-dir", await historyGitDir(service.dir), "show", `main:${path}`]);
}

async function trailersAtHead(service: TestService): Promise<string> {
  return await git([
    "--git-dir",
    await historyGitDir(service.dir),
    "log",
    "-1",
    "--format=%(trailers:unfold)",
    "main",
  ]);
}

/** Posts `fields` and requires a 422 that stored nothing: same head, same outbox. */
async function refused(
  service: TestService,
  user: Browser,
  fields: Record<string, string>,
  field: string,
): Promise<string> {
  const head = await headOf(service);
  const mails = await outboxKeys(service);
  const response = await user.submit(INVITE, { ...VALID, ...fields });
  const html = await response.text();
  assert.equal(response.status, 422, `refused: ${JSON.stringify(fields)}`);
  assert.match(html, new RegExp(`href="#${field}"`), `the error names field ${field}`);
  assert.equal(await headOf(service), head, "no commit");
  assert.deepEqual(await outboxKeys(service), mails, "no mail");
  return html;
}

Deno.test("a board person invites a supplier: one event commit, one mail with the edited message", () =>
  withService(async (service) => {
    const reviewer = await boardUser(service, BOARD, ["beoordelen"], "Rita Beoordelaar");
    await acceptTerms(reviewer, BOARD.id);
    const form = await reviewer.page(INVITE);
    assert.equal(form.status, 200);
    assert.match(form.html, /<textarea[^>]*name="message"[^>]*>[^<]*via Akkoord/);
    assert.match(form.html, /Rita Beoordelaar/, "the ready-made message is signed by the sender");

    const response = await reviewer.submit(INVITE, VALID);
    assert.equal(response.status, 303);
    assert.match(response.headers.get("Location") ?? "", /\/invite\?verstuurd=/);
    const trailers = await trailersAtHead(service);
    assert.match(trailers, /^Event: supplier-invited$/m);
    assert.match(trailers, new RegExp(`^Board: ${BOARD.id}$`, "m"));
    assert.match(trailers, /^Role: beoordelen$/m);
    const id = /^Invitation: ([0-9a-f]{16})$/m.exec(trailers)?.[1];
    assert.ok(id, "the commit names the invitation");
    const stored = JSON.parse(await showAtHead(service, `invitations/${BOARD.id}/${id}.json`));
    assert.equal(stored.supplierName, VALID.supplierName);
    assert.equal(stored.email, VALID.email);
    assert.equal(
      stored.message,
      "Beste mensen,\n\nWilt u uw overeenkomst voortaan via Akkoord aanbieden?",
    );
    assert.equal(stored.actor.name, "Rita Beoordelaar");

    const head = await headOf(service);
    const mails = await mailsOf(service, head);
    assert.equal(mails.length, 1, "one mail, to the supplier only");
    assert.equal(mails[0]!.to, VALID.email);
    assert.equal(mails[0]!.subject, "Stichting Van Hall Larenstein nodigt u uit voor Akkoord");
    assert.match(mails[0]!.text, /^Beste Lesmateriaal Noord B\.V\.,/);
    assert.match(mails[0]!.text, /Wilt u uw overeenkomst voortaan via Akkoord aanbieden\?/);
    assert.match(mails[0]!.text, /Rita Beoordelaar stuurde dit bericht namens Stichting Van Hall/);
    assert.match(mails[0]!.html, /<a href="http:\/\/127\.0\.0\.1:\d+\/">Over Akkoord<\/a>/);
    assert.doesNotMatch(mails[0]!.html, /Bekijk de overeenkomst/, "the link goes to the home page");
    await outboxKeys(service);
    assert.equal((await mailsOf(service, head)).length, 1, "catching up again mails nothing twice");

    const listed = await reviewer.page(INVITE);
    assert.match(listed.html, /Lesmateriaal Noord B\.V\. \(privacy@lesmateriaal-noord\.example\)/);

    const signatory = await boardUser(service, BOARD, ["ondertekenen"], "Sander Tekenaar");
    await signatory.page(INVITE);
    const second = await signatory.submit(INVITE, {
      ...VALID,
      supplierName: "Toetsbureau",
      email: "privacy@toetsbureau.example",
    });
    assert.equal(second.status, 303, "a signatory may invite too");

    const signers = `${service.dir}/published_allowed_signers`;
    const published = await fetch(`${service.url}/.well-known/akkoord/allowed_signers`);
    await Deno.writeTextFile(signers, await published.text());
    const verified = await runVerify([
      await historyGitDir(service.dir),
      "--allowed-signers",
      signers,
    ]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /supplier-invited 2/);
  }));

Deno.test("an invitation with a line break in a name, a bad address or a long message is refused", () =>
  withService(async (service) => {
    const user = await boardUser(service, BOARD, ["beoordelen"]);
    await acceptTerms(user, BOARD.id);
    await user.page(INVITE);
    for (
      const name of [
        "Evil\r\nBcc: victim@example.org",
        "Evil\nX",
        "A\u2028B",
        "A\u0085B",
        "C\u0000D",
      ]
    ) {
      await refused(service, user, { supplierName: name }, "supplierName");
    }
    await refused(service, user, { supplierName: "   " }, "supplierName");
    await refused(service, user, { supplierName: "x".repeat(201) }, "supplierName");
    const addresses = [
      "privacy@lesmateriaal.example\r\nBcc: victim@example.org",
      "privacy@lesmateriaal.example\nBcc: victim@example.org",
      "not-an-address",
      "a@b",
      "one@a.example, two@b.example",
      "Naam <one@a.example>",
      '"quoted"@a.example',
      "one@a.example\u2028two@b.example",
      `${"a".repeat(65)}@a.example`,
      `a@${"b".repeat(250)}.example`,
    ];
    for (const email of addresses) await refused(service, user, { email }, "email");
    const known = JSON.parse(await showAtHead(service, `suppliers/${SUPPLIER}.json`)).contactEmail;
    await refused(service, user, { email: known }, "email");
    await refused(service, user, { message: " \r\n " }, "message");
    await refused(service, user, { message: "x".repeat(4001) }, "message");
    await refused(service, user, { message: "Hallo\u0007" }, "message");
    const kept = await refused(service, user, { email: "not-an-address" }, "email");
    assert.match(kept, /Lesmateriaal Noord B\.V\./, "the form keeps what was typed");
  }));

Deno.test("only the board's own reviewers and signatories invite on its behalf", () =>
  withService(async (service) => {
    const head = await headOf(service);
    const mails = await outboxKeys(service);
    const anonymous = await new Browser(service.url).request(INVITE);
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);

    const logins = [
      { organisation: SUPPLIER, name: "Sam Leverancier", mandates: [] },
      { organisation: OTHER_BOARD.kvk, name: "Olga Anderbestuur", mandates: ["beoordelen"] },
      { organisation: DEMO_OPERATOR_KVK, name: "Ada Beheer", mandates: ["beheer"] },
    ] as const;
    for (const login of logins) {
      const browser = new Browser(service.url);
      await browser.login({ ...login, mandates: [...login.mandates] });
      const page = await browser.page(INVITE);
      assert.equal(page.status, 403, `${login.name} may not see the form`);
      const posted = await browser.submit(INVITE, VALID);
      await posted.body?.cancel();
      assert.equal(posted.status, 403, `${login.name} may not invite`);
      const notifications = await browser.page(`/boards/${BOARD.id}/notifications`);
      assert.equal(notifications.status, 403, `${login.name} may not see the notification page`);
    }
    assert.equal(await headOf(service), head, "nothing was recorded");
    assert.deepEqual(await outboxKeys(service), mails, "nothing was mailed");

    const early = await boardUser(service, OTHER_BOARD, ["beoordelen"]);
    await early.page(`/boards/${OTHER_BOARD.id}/invite`);
    const response = await early.submit(`/boards/${OTHER_BOARD.id}/invite`, VALID);
    await response.body?.cancel();
    assert.equal(response.status, 409, "a board invites after it accepted the terms of use");
    assert.equal(await headOf(service), head);
  }));

Deno.test("the domain decision refuses what the form refuses, whoever calls it", () => {
  const state = emptyState();
  const at = new Date("2026-12-04T10:00:00Z");
  state.boards.set(BOARD.id, {
    id: BOARD.id,
    kvk: BOARD.kvk,
    name: "Stichting Van Hall Larenstein",
    sector: "ho",
    contactEmail: "privacy@bg41344.besturen.example",
    termsAccepted: { version: "1", at: "2026-12-01T10:00:00Z", actor: SYSTEM_ACTOR },
  });
  const principal: Principal = {
    subject: "rita",
    name: "Rita",
    organisation: BOARD.kvk,
    assurance: "urn:etoegang:core:assurance-class:loa3",
    mandates: ["beoordelen"],
    supplier: false,
    admin: false,
    auditor: false,
  };
  const command = { principal, board: BOARD.id, ...VALID, at };
  const invalid = (change: Partial<typeof command>) =>
    assert.throws(() => inviteSupplier(state, { ...command, ...change }), /invalid_input|Cannot/);
  invalid({ supplierName: "A\r\nBcc: x@example.org" });
  invalid({ email: "a@example.org\r\nBcc: x@example.org" });
  invalid({ message: "x".repeat(4001) });
  const decision = inviteSupplier(state, command);
  assert.ok(decision.commit, "a valid invitation is a commit");
  assert.equal(
    decision.result.message,
    "Beste mensen,\n\nWilt u uw overeenkomst voortaan via Akkoord aanbieden?",
  );
  const outsider = { ...principal, organisation: OTHER_BOARD.kvk };
  assert.throws(
    () => inviteSupplier(state, { ...command, principal: outsider }),
    /supplier\.invite/,
  );
});

/** A reviewer of {@link BOARD}, as the domain sees one, for invitations planted in the history. */
const PLANTER: Principal = {
  subject: "planter",
  name: "Rita Beoordelaar",
  organisation: BOARD.kvk,
  assurance: "urn:etoegang:core:assurance-class:loa3",
  mandates: ["beoordelen"],
  supplier: false,
  admin: false,
  auditor: false,
};

/** Records invitations of {@link BOARD} in the history of `dir`, at the times given. */
async function plantInvitations(
  dir: string,
  invitations: Array<{ email: string; at: Date }>,
): Promise<void> {
  const store = await openTestStore({ dir, projection: stateProjection, committer: COMMITTER });
  try {
    for (const { email, at } of invitations) {
      await store.transact((state) =>
        inviteSupplier(state, { principal: PLANTER, board: BOARD.id, ...VALID, email, at })
      );
    }
  } finally {
    await store.close();
  }
}

/** Posts an invitation that must be refused with 429: no commit, no mail; returns the page. */
async function limited(service: TestService, user: Browser, email: string): Promise<string> {
  const head = await headOf(service);
  const mails = await outboxKeys(service);
  const response = await user.submit(INVITE, { ...VALID, email });
  const html = await response.text();
  assert.equal(response.status, 429, `limited: ${email}`);
  assert.equal(await headOf(service), head, "no commit");
  assert.deepEqual(await outboxKeys(service), mails, "no mail");
  return html;
}

async function invited(user: Browser, email: string): Promise<void> {
  const response = await user.submit(INVITE, { ...VALID, email });
  await response.body?.cancel();
  assert.equal(response.status, 303, `invited: ${email}`);
}

Deno.test("a board invites at most AKKOORD_INVITES_PER_DAY a day and an address once a week, counted from the history", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-invite-limits-" });
  const env = { AKKOORD_INVITES_PER_DAY: "3" };
  const signIn = async (service: TestService) => {
    const user = await boardUser(service, BOARD, ["beoordelen"], "Rita Beoordelaar");
    await user.page(INVITE);
    return user;
  };
  try {
    const first = await startTestService(env, dir);
    await acceptTerms(await signIn(first), BOARD.id);
    await first.close();
    const day = 24 * 60 * 60 * 1000;
    await plantInvitations(dir, [
      { email: "vorige-week@leverancier.example", at: new Date(Date.now() - 8 * day) },
      { email: "deze-week@leverancier.example", at: new Date(Date.now() - 6 * day) },
    ]);

    const service = await startTestService(env, dir);
    try {
      const user = await signIn(service);
      for (const email of ["deze-week@leverancier.example", "DEZE-WEEK@Leverancier.example"]) {
        const html = await limited(service, user, email);
        assert.match(
          html,
          /href="#email"[^>]*>Uw bestuur nodigde dit adres op \d+ \w+ \d{4} al uit/,
        );
        assert.match(
          html,
          /hoogstens één uitnodiging per 7 dagen; u kunt het vanaf \d+ \w+ \d{4} om/,
        );
      }
      await invited(user, "vorige-week@leverancier.example");
      await invited(user, "een@leverancier.example");
      await invited(user, "twee@leverancier.example");
      const full = await limited(service, user, "drie@leverancier.example");
      assert.match(full, /Uw bestuur heeft vandaag al 3 uitnodigingen verstuurd/);
    } finally {
      await service.close();
    }

    const restarted = await startTestService(env, dir);
    try {
      const user = await signIn(restarted);
      const full = await limited(restarted, user, "drie@leverancier.example");
      assert.match(full, /vandaag al 3 uitnodigingen/, "the limit holds after a restart");
    } finally {
      await restarted.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the day of the invitation limit is the Europe/Amsterdam day, not the UTC day", () => {
  const state = emptyState();
  state.boards.set(BOARD.id, {
    id: BOARD.id,
    kvk: BOARD.kvk,
    name: "Stichting Van Hall Larenstein",
    sector: "ho",
    contactEmail: "privacy@bg41344.besturen.example",
    termsAccepted: { version: "1", at: "2026-12-01T10:00:00Z", actor: SYSTEM_ACTOR },
  });
  const limits = { perDay: 2, sameAddressDays: 7 };
  const invite = (email: string, at: string) => {
    const decision = inviteSupplier(state, {
      principal: PLANTER,
      board: BOARD.id,
      ...VALID,
      email,
      at: new Date(at),
      limits,
    });
    state.invitations.set(`${BOARD.id}/${decision.result.id}`, decision.result);
  };
  invite("a@leverancier.example", "2026-12-04T10:00:00Z");
  invite("b@leverancier.example", "2026-12-04T22:30:00Z");
  assert.throws(
    () => invite("c@leverancier.example", "2026-12-04T22:59:00Z"),
    /limit_reached|2 invitations today/,
  );
  invite("c@leverancier.example", "2026-12-04T23:00:00Z");
  assert.throws(
    () => invite("a@leverancier.example", "2026-12-11T09:59:59Z"),
    /invited this address at 2026-12-04T10:00:00Z; it may again from 2026-12-11T10:00:00Z/,
  );
  invite("a@leverancier.example", "2026-12-11T10:00:01Z");
});

Deno.test("the confirmation after sending shows the recorded invitation, never text from the address", () =>
  withService(async (service) => {
    const user = await boardUser(service, BOARD, ["beoordelen"]);
    await acceptTerms(user, BOARD.id);
    const forged = await user.page(
      `${INVITE}?verstuurd=${encodeURIComponent("Win nu €1000 op oplichter.example")}`,
    );
    assert.equal(forged.status, 200);
    assert.doesNotMatch(forged.html, /oplichter|is verstuurd/);

    await user.page(INVITE);
    const response = await user.submit(INVITE, VALID);
    const location = response.headers.get("Location") ?? "";
    assert.match(location, /\/invite\?verstuurd=[0-9a-f]{16}$/);
    const confirmed = await user.page(location);
    assert.match(
      confirmed.html,
      /De uitnodiging aan Lesmateriaal Noord B\.V\. \(privacy@lesmateriaal-noord\.example\) is verstuurd\./,
    );
    const elsewhere = await boardUser(service, OTHER_BOARD, ["beoordelen"]);
    await acceptTerms(elsewhere, OTHER_BOARD.id);
    const other = await elsewhere.page(location.replace(BOARD.id, OTHER_BOARD.id));
    assert.doesNotMatch(other.html, /is verstuurd/, "another board's invitation is not confirmed");
  }));
