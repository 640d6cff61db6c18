import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import { REASON_MAX_LENGTH } from "../domain/decide_on_agreement.ts";
import { TERMS_VERSION } from "../domain/registry.ts";
import {
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  headOf,
  offer,
  offeredToBoard,
  TERMS_FORM,
  withService,
} from "./helpers/board_flow.ts";
import { Browser, sampleOffer } from "./helpers/service.ts";

const NOT_APPROVED = "Deze versie is nog niet goedgekeurd en kan daarom niet worden ondertekend.";

Deno.test("terms are accepted only with the ticked checkbox and the terms version in force", () =>
  withService(async (service) => {
    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    const terms = `/boards/${BOARD.id}/terms`;
    const before = await headOf(service);
    const refused: Array<[string, Record<string, string>, RegExp]> = [
      ["no checkbox", { termsVersion: TERMS_VERSION }, /Vink aan dat u de gebruiksvoorwaarden/],
      ["an unticked value", { accept: "on", termsVersion: TERMS_VERSION }, /Vink aan/],
      ["no terms version", { accept: "ja" }, new RegExp(`versie ${TERMS_VERSION} geldt nu`)],
      ["a stale terms version", { accept: "ja", termsVersion: "2020-01" }, /zijn gewijzigd/],
    ];
    for (const [what, fields, message] of refused) {
      const response = await reviewer.submit(terms, fields);
      assert.equal(response.status, 422, what);
      const html = await response.text();
      assert.match(html, /id="accept-error"/, what);
      assert.match(html, message, what);
      assert.match(html, /aria-invalid="true"/, what);
      assert.match(html, /name="termsVersion" value="[^"]+"/, "the form is shown again");
    }
    assert.equal(await headOf(service), before, "no refused form wrote anything");

    const accepted = await reviewer.submit(terms, TERMS_FORM);
    assert.equal(accepted.status, 303);
    await accepted.body?.cancel();
    assert.notEqual(await headOf(service), before);
    const overview = await reviewer.page(`/boards/${BOARD.id}`);
    assert.match(
      overview.html,
      new RegExp(`Gebruiksvoorwaarden \\(versie ${TERMS_VERSION}\\) aanvaard`),
    );
  }));

Deno.test("the terms notice says reviewers and signatories may accept", () =>
  withService(async (service) => {
    const admin = new Browser(service.url);
    const landed = await admin.login({
      organisation: DEMO_OPERATOR_KVK,
      name: "Ada Beheer",
      mandates: ["beheer"],
    });
    assert.equal(landed.status, 303);
    const overview = await admin.page(`/boards/${BOARD.id}`);
    assert.equal(overview.status, 200);
    assert.match(
      overview.html,
      /Iemand met een eHerkenningsmachtiging om namens [^<]+ te beoordelen\s+of te ondertekenen moet/,
    );
    assert.doesNotMatch(overview.html, /<form[^>]*\/terms"/);
  }));

Deno.test("the sign page is refused while the version is not approved or the terms not accepted", () =>
  withService(async (service) => {
    assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
    const both = await boardUser(service, BOARD, ["beoordelen", "ondertekenen"]);
    const signPath = agreementPath(BOARD.id, "sign");

    const beforeTerms = await both.page(signPath);
    assert.equal(beforeTerms.status, 409);
    assert.match(beforeTerms.html, /eerst de gebruiksvoorwaarden aanvaarden/);
    assert.doesNotMatch(beforeTerms.html, /Onderteken versie/);

    const accepted = await both.submit(`/boards/${BOARD.id}/terms`, TERMS_FORM);
    assert.equal(accepted.status, 303);
    const offered = await both.page(signPath);
    assert.equal(offered.status, 409);
    assert.match(offered.html, new RegExp(NOT_APPROVED));
    assert.doesNotMatch(offered.html, /Onderteken versie/);

    const shown = await agreementStatus(service, BOARD.id);
    const approved = await both.submit(agreementPath(BOARD.id, "approve"), {
      version: String(shown.current.version),
      oid: shown.current.oid,
      contentSha256: shown.current.contentSha256,
    });
    assert.equal(approved.status, 303);
    const ready = await both.page(signPath);
    assert.equal(ready.status, 200);
    assert.match(ready.html, /Onderteken versie 1/);
  }));

Deno.test("a too long reject reason is a field error that keeps the typed text", () =>
  withService(async (service) => {
    const { user, shown } = await offeredToBoard(service, ["beoordelen"]);
    const form = await user.page(agreementPath(BOARD.id));
    assert.match(
      form.html,
      new RegExp(`<textarea[^>]*name="reason"[^>]*maxlength="${REASON_MAX_LENGTH}"`),
    );
    const before = await headOf(service);
    const reason = `Te lang: ${"ab".repeat(REASON_MAX_LENGTH / 2)}`;
    const response = await user.submit(agreementPath(BOARD.id, "reject"), { ...shown, reason });
    assert.equal(response.status, 422);
    const html = await response.text();
    assert.match(
      html,
      new RegExp(
        `id="reason-error"[^>]*>\\s*Een reden heeft hoogstens ${REASON_MAX_LENGTH} tekens`,
      ),
    );
    assert.ok(html.includes(`>${reason}</textarea>`), "the typed reason is kept");
    assert.equal(await headOf(service), before);

    const lineBreaks = "regel\r\n".repeat(REASON_MAX_LENGTH / 6).trim();
    assert.ok(lineBreaks.length > REASON_MAX_LENGTH, "longer than allowed as posted");
    const posted = await user.submit(agreementPath(BOARD.id, "reject"), {
      ...shown,
      reason: lineBreaks,
    });
    assert.equal(posted.status, 303, "a line break counts as one character, as in the browser");
    await posted.body?.cancel();
  }));

Deno.test("pages name an empty icon, so browsers do not ask for /favicon.ico", () =>
  withService(async (service) => {
    const home = await fetch(`${service.url}/`);
    assert.match(await home.text(), /<link rel="icon" href="data:,"\s*\/?>/);
  }));
