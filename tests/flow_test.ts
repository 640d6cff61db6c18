import { DEMO_OPERATOR_KVK } from "../config.ts";
import assert from "node:assert/strict";
import {
  acceptTerms,
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  headOf,
  offer,
  offeredToBoard,
  OTHER_BOARD,
  SUPPLIER,
  versionFields,
  withService,
} from "./helpers/board_flow.ts";
import { Browser, sampleOffer } from "./helpers/service.ts";

Deno.test("a supplier offers, a reviewer approves, a signatory signs, the overview shows it signed", () =>
  withService(async (service) => {
    const offered = await offer(service, await sampleOffer([BOARD.id, OTHER_BOARD.id]));
    assert.equal(offered.status, 201);
    const result = await offered.json();
    assert.deepEqual(result.agreements.map((a: { board: string }) => a.board), [
      BOARD.id,
      OTHER_BOARD.id,
    ]);

    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    await acceptTerms(reviewer, BOARD.id);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    const page = await reviewer.page(agreementPath(BOARD.id));
    assert.equal(page.status, 200);
    assert.match(page.html, new RegExp(shown.contentSha256));
    assert.equal((await reviewer.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);

    const signatory = await boardUser(service, BOARD, ["ondertekenen"], "Bram Jansen");
    const confirm = await signatory.page(agreementPath(BOARD.id, "sign"));
    assert.equal(confirm.status, 200);
    assert.match(confirm.html, new RegExp(shown.oid));
    const unconfirmed = await signatory.submit(agreementPath(BOARD.id, "sign"), shown);
    assert.equal(unconfirmed.status, 422);
    assert.match(await unconfirmed.text(), /Vink aan dat u deze versie hebt gelezen/);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "approved");
    const signed = await signatory.submit(agreementPath(BOARD.id, "sign"), {
      ...shown,
      confirm: "on",
    });
    assert.equal(signed.status, 303);

    const status = await agreementStatus(service, BOARD.id);
    assert.equal(status.state, "signed");
    assert.equal(status.inForce.oid, shown.oid);
    const overview = await signatory.page(`/boards/${BOARD.id}`);
    assert.match(overview.html, /ondertekend/i);
    assert.equal((await agreementStatus(service, OTHER_BOARD.id)).state, "offered");
  }));

Deno.test("a signatory cannot sign a version that was not approved", () =>
  withService(async (service) => {
    assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
    const signatory = await boardUser(service, BOARD, ["ondertekenen"]);
    await acceptTerms(signatory, BOARD.id);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    const head = service.server.config && await headOf(service);
    const response = await signatory.submit(agreementPath(BOARD.id, "sign"), {
      ...shown,
      confirm: "on",
    });
    assert.equal(response.status, 409);
    assert.match(await response.text(), /niet goedgekeurd/);
    assert.equal(await headOf(service), head, "nothing was written");
  }));

Deno.test("the wrong mandate is refused: a reviewer cannot sign, a signatory cannot approve", () =>
  withService(async (service) => {
    const { user: reviewer, shown } = await offeredToBoard(service, ["beoordelen"]);
    const signatory = await boardUser(service, BOARD, ["ondertekenen"], "Bram Jansen");
    assert.equal((await signatory.submit(agreementPath(BOARD.id, "approve"), shown)).status, 403);
    assert.equal((await reviewer.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
    const refused = await reviewer.submit(agreementPath(BOARD.id, "sign"), {
      ...shown,
      confirm: "on",
    });
    assert.equal(refused.status, 403);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "approved");
  }));

Deno.test("a person of one board cannot see or act on another board's agreement", () =>
  withService(async (service) => {
    await offer(service, await sampleOffer([BOARD.id]));
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    const outsider = await boardUser(service, OTHER_BOARD, ["beoordelen", "ondertekenen"]);
    assert.equal((await outsider.page(agreementPath(BOARD.id))).status, 403);
    assert.equal((await outsider.page(`/boards/${BOARD.id}`)).status, 403);
    assert.equal((await outsider.submit(agreementPath(BOARD.id, "approve"), shown)).status, 403);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "offered");
  }));

Deno.test("signing a version that was superseded meanwhile is refused", () =>
  withService(async (service) => {
    await offer(service, await sampleOffer([BOARD.id]));
    const both = await boardUser(service, BOARD, ["beoordelen", "ondertekenen"]);
    await acceptTerms(both, BOARD.id);
    const first = versionFields(await agreementStatus(service, BOARD.id));
    assert.equal((await both.submit(agreementPath(BOARD.id, "approve"), first)).status, 303);

    const changed = await sampleOffer([BOARD.id]);
    changed.text += "\n## Artikel 17 Aanvulling\n\n17.1 Een nieuwe bepaling.\n";
    assert.equal((await offer(service, changed)).status, 201);
    const second = await agreementStatus(service, BOARD.id);
    assert.equal(second.current.version, 2);
    assert.equal(second.state, "offered", "the approval of version 1 does not carry over");

    const response = await both.submit(agreementPath(BOARD.id, "sign"), {
      ...first,
      confirm: "on",
    });
    assert.equal(response.status, 409);
    assert.match(await response.text(), /nieuwere versie/);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "offered");
  }));

Deno.test("signing with content that differs from the approved version is refused", () =>
  withService(async (service) => {
    const { user: both, shown } = await offeredToBoard(service, ["beoordelen", "ondertekenen"]);
    await both.submit(agreementPath(BOARD.id, "approve"), shown);
    const forged = { ...shown, contentSha256: "0".repeat(64), confirm: "on" };
    assert.equal((await both.submit(agreementPath(BOARD.id, "sign"), forged)).status, 409);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "approved");
  }));

Deno.test("two concurrent signatures of the same version: exactly one wins, the other gets 409", () =>
  withService(async (service) => {
    const { user: reviewer, shown } = await offeredToBoard(service, ["beoordelen"]);
    await reviewer.submit(agreementPath(BOARD.id, "approve"), shown);
    const first = await boardUser(service, BOARD, ["ondertekenen"], "Bram Jansen");
    const second = await boardUser(service, BOARD, ["ondertekenen"], "Chris Bakker");
    const form = { ...shown, confirm: "on" };
    const results = await Promise.all([
      first.submit(agreementPath(BOARD.id, "sign"), form),
      second.submit(agreementPath(BOARD.id, "sign"), form),
    ]);
    const statuses = results.map((r) => r.status).sort();
    await Promise.all(results.map((r) => r.body?.cancel()));
    assert.deepEqual(statuses, [303, 409]);
    const status = await agreementStatus(service, BOARD.id);
    assert.equal(status.history.filter((h: { action: string }) => h.action === "signed").length, 1);
  }));

Deno.test("rejecting without a reason is refused with a message and changes nothing", () =>
  withService(async (service) => {
    const { user: reviewer, shown } = await offeredToBoard(service, ["beoordelen"]);
    const head = await headOf(service);
    const response = await reviewer.submit(agreementPath(BOARD.id, "reject"), {
      ...shown,
      reason: "   ",
    });
    assert.equal(response.status, 422);
    assert.match(await response.text(), /Geef aan waarom/);
    assert.equal(await headOf(service), head);

    const rejected = await reviewer.submit(agreementPath(BOARD.id, "reject"), {
      ...shown,
      reason: "Artikel 9: de termijn voor het melden van datalekken is te lang.",
    });
    assert.equal(rejected.status, 303);
    const status = await agreementStatus(service, BOARD.id);
    assert.equal(status.state, "rejected");
    assert.match(status.history.at(-1).reason, /datalekken/);
  }));

Deno.test("a board acts only after accepting the terms of use, which is an event", () =>
  withService(async (service) => {
    await offer(service, await sampleOffer([BOARD.id]));
    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    const early = await reviewer.submit(agreementPath(BOARD.id, "approve"), shown);
    assert.equal(early.status, 409);
    assert.match(await early.text(), /gebruiksvoorwaarden/);
    const before = await headOf(service);
    await acceptTerms(reviewer, BOARD.id);
    assert.notEqual(await headOf(service), before);
    assert.equal((await reviewer.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
  }));

Deno.test("forms without the CSRF token or from another origin are refused", () =>
  withService(async (service) => {
    await offer(service, await sampleOffer([BOARD.id]));
    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    const noToken = await reviewer.request(`/boards/${BOARD.id}/terms`, {
      method: "POST",
      body: new URLSearchParams({ accept: "on" }),
      headers: { Origin: service.url },
    });
    assert.equal(noToken.status, 403);
    const foreign = await reviewer.request(`/boards/${BOARD.id}/terms`, {
      method: "POST",
      body: new URLSearchParams({ accept: "on", _csrf: reviewer.csrf }),
      headers: { Origin: "https://evil.example" },
    });
    assert.equal(foreign.status, 403);
    await Promise.all([noToken.body?.cancel(), foreign.body?.cancel()]);
  }));

Deno.test("pages ask for a login and render readable Dutch errors", () =>
  withService(async (service) => {
    const anonymous = new Browser(service.url);
    const page = await anonymous.page(`/boards/${BOARD.id}`);
    assert.equal(page.status, 401);
    assert.match(page.html, /lang="nl"/);
    const missing = await anonymous.page("/bestaat-niet");
    assert.equal(missing.status, 404);
    const user = await boardUser(service, BOARD, ["beoordelen"]);
    assert.equal((await user.page(`/boards/${BOARD.id}/agreements/99999999`)).status, 404);
  }));

Deno.test("the offer, approval and signature each put a mail in the outbox", () =>
  withService(async (service) => {
    const { user: both, shown } = await offeredToBoard(service, ["beoordelen", "ondertekenen"]);
    await both.submit(agreementPath(BOARD.id, "approve"), shown);
    await both.submit(agreementPath(BOARD.id, "sign"), { ...shown, confirm: "on" });
    const outbox = await (await fetch(`${service.url}/dev/outbox`)).text();
    const board = `privacy@bg${BOARD.id}.besturen.example`;
    assert.match(outbox, new RegExp(`Nieuwe verwerkersovereenkomst van Schoolwijzer`));
    assert.match(outbox, /Uw bestuur gebruikt Akkoord nog niet/, "an invitation before the terms");
    assert.match(outbox, /wacht op ondertekening/);
    assert.match(outbox, /heeft de verwerkersovereenkomst ondertekend/);
    assert.ok(outbox.includes(board));
    assert.ok(outbox.includes("privacy@schoolwijzer-demo.example"));
  }));

Deno.test("a supplier's page lists its agreements per board; another supplier is refused", () =>
  withService(async (service) => {
    await offer(service, await sampleOffer([BOARD.id]));
    const supplier = new Browser(service.url);
    const landed = await supplier.login({
      organisation: SUPPLIER,
      name: "Sam Leverancier",
      mandates: [],
    });
    assert.equal(landed.headers.get("Location"), "/");
    const home = await supplier.request("/");
    assert.equal(home.headers.get("Location"), `/suppliers/${SUPPLIER}`);
    const page = await supplier.page(`/suppliers/${SUPPLIER}`);
    assert.equal(page.status, 200);
    assert.match(page.html, /Stichting Van Hall Larenstein/);
    assert.equal((await supplier.page("/suppliers/99000002")).status, 403);
    assert.equal((await supplier.page(`/boards/${BOARD.id}`)).status, 403);
    assert.equal((await supplier.page("/admin")).status, 403);
  }));

Deno.test("an administrator sees every board and may read, but not decide for, a board", () =>
  withService(async (service) => {
    await offer(service, await sampleOffer([BOARD.id]));
    const admin = new Browser(service.url);
    await admin.login({
      organisation: DEMO_OPERATOR_KVK,
      name: "Ada Beheer",
      mandates: ["beheer"],
    });
    assert.equal((await admin.request("/")).headers.get("Location"), "/admin");
    const overview = await admin.page("/admin");
    assert.equal(overview.status, 200);
    assert.equal((overview.html.match(/href="\/boards\/\d{5}"/g) ?? []).length, 75);
    assert.equal((await admin.page(agreementPath(BOARD.id))).status, 200);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    assert.equal((await admin.submit(agreementPath(BOARD.id, "approve"), shown)).status, 403);
  }));

Deno.test("logging out ends the session", () =>
  withService(async (service) => {
    const user = await boardUser(service, BOARD, ["beoordelen"]);
    const out = await user.submit("/logout", {});
    assert.equal(out.status, 303);
    assert.equal((await user.page(`/boards/${BOARD.id}`)).status, 401);
  }));

Deno.test("the admin and auditor services count only for the configured operator organisations", () =>
  withService(async (service) => {
    const supplier = new Browser(service.url);
    await supplier.login({ organisation: SUPPLIER, name: "Eve", mandates: ["beheer", "auditor"] });
    assert.equal((await supplier.page("/admin")).status, 403);
    assert.equal((await supplier.page("/tokens")).status, 403);
    const board = new Browser(service.url);
    await board.login({ organisation: BOARD.kvk, name: "Eve", mandates: ["beheer"] });
    assert.equal((await board.page(`/boards/${OTHER_BOARD.id}`)).status, 403);
  }));
