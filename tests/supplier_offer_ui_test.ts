import assert from "node:assert/strict";
import {
  acceptTerms,
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  headOf,
  offer,
  OTHER_BOARD,
  SUPPLIER,
  versionFields,
  withService,
} from "./helpers/board_flow.ts";
import {
  axeViolations,
  describeViolations,
  launchChromium,
  screenshot,
  useSession,
  watchProblems,
} from "./helpers/browser.ts";
import { git } from "./helpers/git.ts";
import {
  fingerprintOf,
  OFFER,
  pastedFields,
  postForm,
  previewAndOffer,
  supplierUser,
} from "./helpers/offer_form.ts";
import { Browser, sampleOffer, supplierToken, type TestService } from "./helpers/service.ts";
import { Buffer } from "node:buffer";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import { groupBySameText } from "../domain/same_text.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const OTHER_SUPPLIER = "99000002";

function jsonFile(name: string, value: unknown): File {
  return new File([JSON.stringify(value, null, 2)], name, { type: "application/json" });
}

function section(text: string, heading: string): string {
  const start = text.indexOf(heading);
  const next = text.indexOf("\n## ", start + heading.length);
  return text.slice(start, next === -1 ? text.length : next + 1);
}

async function historyGit(service: TestService, args: string[]): Promise<string> {
  return (await git(["--git-dir", await historyGitDir(service.dir), ...args])).trim();
}

Deno.test("offer v2 by form to two boards; the reviewer sees changes and model deviations, approves", () =>
  withService(async (service) => {
    const first = await sampleOffer([BOARD.id, OTHER_BOARD.id]);
    assert.equal((await offer(service, first)).status, 201);
    const supplier = await supplierUser(service);
    const form = await supplier.page(OFFER);
    assert.ok((form.html.match(/name="boards"/g) ?? []).length >= 75, "every board can be chosen");

    const text = first.text.replace("binnen 24 uur", "binnen 48 uur")
      .replace(section(first.text, "## Artikel 13 Aansprakelijkheid"), "");
    const fields = {
      mode: "full",
      title: "Verwerkersovereenkomst versie 2",
      textFile: new File([text], "overeenkomst.md", { type: "text/markdown" }),
      productFiles: jsonFile("lvs.json", first.products[0]),
      scope: "chosen",
      boards: [BOARD.id, OTHER_BOARD.id],
      step: "preview",
    };
    const { html: preview } = await postForm(service, supplier, `${OFFER}/preview`, fields);
    assert.equal((preview.match(/Gewijzigd sinds versie 1: wordt versie 2/g) ?? []).length, 2);
    assert.match(preview, /artikelen: 1 gewijzigd, 0 toegevoegd, 1 verwijderd/);
    assert.match(preview, /Ontbreekt in de tekst[\s\S]*Aansprakelijkheid/);
    assert.equal(
      (await agreementStatus(service, BOARD.id)).current.version,
      1,
      "a preview stores nothing",
    );

    const fingerprint = fingerprintOf(preview);
    const result = await postForm(service, supplier, OFFER, { ...fields, fingerprint });
    assert.equal(result.status, 200);
    assert.match(result.html, /2 besturen kregen een nieuwe versie/);
    const subject = await historyGit(service, ["log", "-1", "--format=%s%n%b"]);
    assert.match(subject, /Offer "Verwerkersovereenkomst versie 2" by .* to 2 boards/);
    assert.match(subject, new RegExp(`Agreement: ${BOARD.id}/${SUPPLIER} version 2`));
    assert.match(subject, new RegExp(`Agreement: ${OTHER_BOARD.id}/${SUPPLIER} version 2`));
    assert.equal(
      await historyGit(service, [
        "cat-file",
        "-p",
        `HEAD:agreements/${BOARD.id}/${SUPPLIER}/version/agreement.md`,
      ]),
      text.trimEnd(),
    );

    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    await acceptTerms(reviewer, BOARD.id);
    const compare = await reviewer.page(agreementPath(BOARD.id, "compare"));
    assert.match(compare.html, /Versie 1 vergeleken met versie 2/);
    assert.match(
      compare.html,
      /<del><span class="akkoord-visually-hidden">\[verwijderd: <\/span>24/,
    );
    assert.match(compare.html, /Vergelijking met het sectormodel[\s\S]*Ontbreekt in de tekst/);
    const agreement = await reviewer.page(agreementPath(BOARD.id));
    assert.match(agreement.html, /Vergelijking met het sectormodel[\s\S]*Aansprakelijkheid/);
    const status = await agreementStatus(service, BOARD.id);
    const approved = await reviewer.submit(
      agreementPath(BOARD.id, "approve"),
      versionFields(status),
    );
    assert.equal(approved.status, 303);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "approved");

    const api = await fetch(`${service.url}/api/v1/agreements/${BOARD.id}/compare`, {
      headers: { Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}` },
    });
    const json = await api.json();
    assert.equal(json.comparison.text.counts.removed, 1);
    assert.deepEqual(json.model.missing.map((m: { id: string }) => m.id), ["aansprakelijkheid"]);
    assert.deepEqual(json.model.uncovered, []);
  }));

Deno.test("an identical re-offer through the form is a no-op and makes no commit", () =>
  withService(async (service) => {
    const first = await sampleOffer([BOARD.id]);
    assert.equal((await offer(service, first)).status, 201);
    const supplier = await supplierUser(service);
    const head = await headOf(service);
    const { preview, result } = await previewAndOffer(service, supplier, {
      mode: "full",
      title: first.title,
      text: first.text.replace(/\n/g, "\r\n"),
      products: JSON.stringify(first.products),
      scope: "chosen",
      boards: BOARD.id,
    });
    assert.match(preview, /Alle gekozen besturen hebben deze inhoud al/);
    assert.match(
      preview,
      /Gelijk aan versie 1, die al voorligt of ondertekend is: er verandert niets/,
    );
    assert.equal(result.status, 200);
    assert.match(result.html, /Er is niets veranderd/);
    assert.match(result.html, /Niets veranderd: versie 1 had deze inhoud al/);
    assert.equal(await headOf(service), head);
  }));

Deno.test("bad JSON, text without headings and oversize uploads: a Dutch message, nothing stored", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id]);
    const supplier = await supplierUser(service);
    const head = await headOf(service);
    const valid = pastedFields(sample);

    const badJson = await postForm(service, supplier, OFFER, {
      ...valid,
      products: '{\n  "product": {\n    "id": "x",\n  }\n}',
      fingerprint: "0".repeat(64),
    });
    assert.equal(badJson.status, 422);
    assert.match(
      badJson.html,
      /De geplakte JSON is geen geldige JSON: er klopt iets niet op regel 4/,
    );
    assert.match(badJson.html, /Er is nog niets aangeboden/);

    const wrongShape = await postForm(service, supplier, `${OFFER}/preview`, {
      ...valid,
      products: JSON.stringify({ ...sample.products[0] as object, purposes: [] }),
    });
    assert.equal(wrongShape.status, 422);
    assert.match(
      wrongShape.html,
      /geen geldige privacybijsluiter: veld &quot;purposes&quot; heeft te weinig onderdelen/,
    );

    const noHeadings = await postForm(service, supplier, `${OFFER}/preview`, {
      ...valid,
      text: "Gewoon een zin zonder kopjes.",
    });
    assert.equal(noHeadings.status, 422);
    assert.match(noHeadings.html, /geen enkel Markdown-kopje/);

    const notUtf8 = await postForm(service, supplier, `${OFFER}/preview`, {
      ...valid,
      textFile: new File([new Uint8Array([0xff, 0xfe, 0x00, 0x41])], "word.md"),
    });
    assert.equal(notUtf8.status, 422);
    assert.match(notUtf8.html, /is geen tekst in UTF-8/);

    const bigText = await postForm(service, supplier, `${OFFER}/preview`, {
      ...valid,
      textFile: new File(["## Artikel 1 Groot\n\n" + "a".repeat(1_100_000)], "groot.md"),
    });
    assert.equal(bigText.status, 422);
    assert.match(
      bigText.html,
      /Het bestand &quot;groot.md&quot; is groter dan 1 MB/,
    );

    const huge = await postForm(service, supplier, OFFER, {
      ...valid,
      textFile: new File(["x".repeat(5 * 1024 * 1024)], "enorm.md"),
    });
    assert.equal(huge.status, 413);
    assert.match(huge.html, /Het formulier is groter dan 4 MB en is niet verwerkt/);

    assert.equal(await headOf(service), head, "no refused form made a commit");
  }));

Deno.test("an offer form without its CSRF token or from another origin is refused", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id]);
    const supplier = await supplierUser(service);
    const head = await headOf(service);
    const fields = pastedFields(sample);
    const preview = await postForm(service, supplier, `${OFFER}/preview`, fields);
    const fingerprint = fingerprintOf(preview.html);
    const missing = await postForm(service, supplier, OFFER, { ...fields, fingerprint }, {
      csrf: null,
    });
    assert.equal(missing.status, 403);
    assert.match(missing.html, /Dit formulier is verlopen of onvolledig/);
    const foreign = await postForm(service, supplier, OFFER, { ...fields, fingerprint }, {
      origin: "http://127.0.0.1:9",
    });
    assert.equal(foreign.status, 403);
    assert.equal(await headOf(service), head);
  }));

Deno.test("markup in titles, headings and board filters is escaped on the new pages", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id]);
    const supplier = await supplierUser(service);
    const script = "<script>alert('x')</script>";
    const fields = {
      ...pastedFields(sample),
      title: `Titel ${script}`,
      text: `${sample.text}\n## Artikel 99 Extra <img src=x onerror=alert(1)>\n\nTekst.\n`,
      filter: `"><b>vet</b>`,
    };
    const { preview, result } = await previewAndOffer(service, supplier, fields);
    assert.ok(!preview.includes(script), "the title's markup is not passed through");
    assert.ok(preview.includes("Titel &lt;script>alert('x')&lt;/script>"));
    assert.ok(!preview.includes("<img src=x"), "the heading's markup is not passed through");
    assert.match(
      preview,
      /Niet in het model[\s\S]*Artikel 99 Extra &lt;img src=x onerror=alert\(1\)>/,
    );
    assert.equal(result.status, 200);

    const filtered = await postForm(service, supplier, `${OFFER}/preview`, {
      ...fields,
      step: "filter",
    });
    assert.equal(filtered.status, 200);
    assert.ok(!filtered.html.includes("<b>vet</b>"));

    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    const page = await reviewer.page(agreementPath(BOARD.id));
    assert.ok(!page.html.includes("<img src=x"));
    const same = await supplier.page(`/suppliers/${SUPPLIER}/same-text`);
    assert.equal(same.status, 200);
    assert.ok(!same.html.includes(script));
  }));

Deno.test("the board filter keeps ticked boards; the quick choice takes every current board", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id, OTHER_BOARD.id]);
    assert.equal((await offer(service, sample)).status, 201);
    const supplier = await supplierUser(service);
    const filtered = await postForm(service, supplier, `${OFFER}/preview`, {
      mode: "full",
      title: "T",
      text: "",
      products: "",
      scope: "chosen",
      boards: OTHER_BOARD.id,
      filter: "Larenstein",
      step: "filter",
    });
    assert.equal(filtered.status, 200);
    assert.equal((filtered.html.match(/type="checkbox"/g) ?? []).length, 1);
    assert.match(filtered.html, /Stichting Van Hall Larenstein/);
    assert.match(
      filtered.html,
      new RegExp(`<input type="hidden" name="boards" value="${OTHER_BOARD.id}"`),
    );

    const current = await postForm(service, supplier, `${OFFER}/preview`, {
      mode: "full",
      title: sample.title,
      text: sample.text,
      products: JSON.stringify(sample.products),
      scope: "current",
      step: "preview",
    });
    assert.equal(current.status, 200);
    const rows = [
      ...current.html.matchAll(
        /\((\d{5})\)<\/span>\s*<\/th>\s*<td class="utrecht-table__cell">([^<]*)</g,
      ),
    ];
    const boards = rows.map((row) => row[1]);
    assert.ok(boards.includes(BOARD.id) && boards.includes(OTHER_BOARD.id));
    const api = await fetch(`${service.url}/api/v1/agreements`, {
      headers: { Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}` },
    });
    const withAgreement = (await api.json()).agreements.length;
    assert.equal(boards.length, withAgreement, "every board with an agreement, no other");
  }));

Deno.test("a new privacybijsluiter of one product keeps the text and replaces only that annex", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id, OTHER_BOARD.id]);
    assert.equal((await offer(service, sample)).status, 201);
    const textBefore = await historyGit(service, [
      "rev-parse",
      `HEAD:agreements/${BOARD.id}/${SUPPLIER}/version/agreement.md`,
    ]);
    const supplier = await supplierUser(service);
    const form = await supplier.page(`${OFFER}/product`);
    assert.match(form.html, /Nieuwe privacybijsluiter van één product/);
    const product: Record<string, unknown> = {
      ...sample.products[0] as Record<string, unknown>,
      storageLocation: "Ierland",
    };
    const { preview, result } = await previewAndOffer(service, supplier, {
      mode: "product",
      productFiles: jsonFile("lvs.json", product),
      scope: "chosen",
      boards: [BOARD.id, OTHER_BOARD.id],
    });
    assert.match(preview, /tekst gelijk; privacybijsluiters: 1 gewijzigd/);
    assert.equal(result.status, 200);
    for (const board of [BOARD.id, OTHER_BOARD.id]) {
      const status = await agreementStatus(service, board);
      assert.equal(status.current.version, 2);
      assert.equal(status.current.title, sample.title);
    }
    const dir = `HEAD:agreements/${BOARD.id}/${SUPPLIER}/version`;
    assert.equal(await historyGit(service, ["rev-parse", `${dir}/agreement.md`]), textBefore);
    const stored = JSON.parse(
      await historyGit(service, ["cat-file", "-p", `${dir}/products/schoolwijzer-lvs.json`]),
    );
    assert.equal(stored.storageLocation, "Ierland");

    const again = {
      mode: "product",
      products: JSON.stringify({ ...product, storageLocation: "Duitsland" }),
      scope: "chosen",
      boards: BOARD.id,
    };
    const shown = await postForm(service, supplier, `${OFFER}/preview`, again);
    const fingerprint = fingerprintOf(shown.html);
    const newer = { ...sample, boards: [BOARD.id], text: sample.text.replace("24 uur", "8 uur") };
    assert.equal((await offer(service, newer)).status, 201);
    const head = await headOf(service);
    const stale = await postForm(service, supplier, OFFER, { ...again, fingerprint });
    assert.equal(stale.status, 200);
    assert.match(stale.html, /Sinds het voorbeeld is er iets veranderd/);
    assert.equal(await headOf(service), head, "a stale preview offers nothing");
    assert.equal((await agreementStatus(service, BOARD.id)).current.version, 3);

    const missingProduct = await postForm(service, supplier, `${OFFER}/preview`, {
      mode: "product",
      products: JSON.stringify({
        ...product,
        product: { ...(product.product as object), id: "nieuw-product" },
      }),
      scope: "chosen",
      boards: BOARD.id,
    });
    assert.equal(missingProduct.status, 422);
    assert.match(
      missingProduct.html,
      /heeft geen privacybijsluiter van &quot;nieuw-product&quot;/,
    );
  }));

Deno.test("a preview of a whole version goes stale when another version is offered or approved", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id]);
    const leeromgeving = JSON.parse(
      await Deno.readTextFile(
        new URL("../seed/sample/products/schoolwijzer-leeromgeving.json", import.meta.url),
      ),
    );
    const two = { ...sample, products: [...sample.products, leeromgeving] };
    assert.equal((await offer(service, two)).status, 201);
    const supplier = await supplierUser(service);
    const fields = {
      mode: "full",
      title: "Tekst A",
      text: sample.text.replace("binnen 24 uur", "binnen 36 uur"),
      products: JSON.stringify(sample.products),
      scope: "chosen",
      boards: BOARD.id,
    };
    const shown = await postForm(service, supplier, `${OFFER}/preview`, fields);
    assert.equal(shown.status, 200);
    assert.match(shown.html, /Gewijzigd sinds versie 1: wordt versie 2/);
    assert.match(shown.html, /Het gekozen bestuur krijgt een nieuwe versie/);
    assert.match(shown.html, /privacybijsluiters: 1 verwijderd/);
    assert.doesNotMatch(shown.html, /1 van 1 besturen/);
    const fingerprint = fingerprintOf(shown.html);

    const colleague = { ...sample, text: sample.text.replace("binnen 24 uur", "binnen 12 uur") };
    assert.equal((await offer(service, colleague)).status, 201);
    const head = await headOf(service);
    const stale = await postForm(service, supplier, OFFER, { ...fields, fingerprint });
    assert.equal(stale.status, 200);
    assert.match(stale.html, /Sinds het voorbeeld is er iets veranderd/);
    assert.match(stale.html, /Gewijzigd sinds versie 2: wordt versie 3/);
    assert.equal(await headOf(service), head, "the colleague's version 2 is not replaced");
    assert.equal((await agreementStatus(service, BOARD.id)).current.version, 2);

    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    await acceptTerms(reviewer, BOARD.id);
    const v2 = versionFields(await agreementStatus(service, BOARD.id));
    assert.equal((await reviewer.submit(agreementPath(BOARD.id, "approve"), v2)).status, 303);
    const approvedHead = await headOf(service);
    const before = fingerprintOf(stale.html);
    const afterApproval = await postForm(service, supplier, OFFER, {
      ...fields,
      fingerprint: before,
    });
    assert.match(afterApproval.html, /Sinds het voorbeeld is er iets veranderd/);
    assert.match(afterApproval.html, /De goedkeuring van versie 2 vervalt/);
    assert.equal(await headOf(service), approvedHead, "an approval since the preview is noticed");
    assert.equal((await agreementStatus(service, BOARD.id)).state, "approved");

    const fresh = fingerprintOf(afterApproval.html);
    const offered = await postForm(service, supplier, OFFER, { ...fields, fingerprint: fresh });
    assert.equal(offered.status, 200);
    assert.match(offered.html, /Versie 3 aangeboden/);
    const status = await agreementStatus(service, BOARD.id);
    assert.equal(status.current.version, 3);
    assert.equal(status.state, "offered");
  }));

Deno.test("the model comparison points at articles without judging them; a GDPR title is no merge", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id]);
    const opposite = "## Artikel 11 Subverwerkers\n\n11.1 Leverancier schakelt subverwerkers in " +
      "zonder toestemming van Onderwijsinstelling en zonder haar vooraf te informeren.\n\n";
    const text = sample.text
      .replace(section(sample.text, "## Artikel 11 Subverwerkers"), opposite)
      .replace("## Artikel 8 Datalekken", "## Artikel 8 Melding van inbreuken op de beveiliging");
    const supplier = await supplierUser(service);
    const preview = await postForm(service, supplier, `${OFFER}/preview`, {
      mode: "full",
      title: "Omgekeerd",
      text,
      products: JSON.stringify(sample.products),
      scope: "chosen",
      boards: BOARD.id,
    });
    assert.equal(preview.status, 200);
    assert.doesNotMatch(preview.html, /Gedekt/);
    assert.match(preview.html, /een wegwijzer voor de beoordelaar, geen oordeel over de inhoud/);
    assert.match(
      preview.html,
      /Genoemd in [^<]*&quot;Artikel 11 Subverwerkers&quot;[^<]*:<\/strong> \(d\) Schakelt/,
    );
    assert.doesNotMatch(preview.html, /Anders ingedeeld dan het model/);
    assert.doesNotMatch(preview.html, /samengevoegd|verdeeld over meer artikelen/);
  }));

Deno.test("same text: boards grouped by their text's blob, for the supplier, an admin and the API", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id, OTHER_BOARD.id]);
    assert.equal((await offer(service, sample)).status, 201);
    const third = "41282";
    const other = { ...sample, boards: [third], text: sample.text.replace("24 uur", "12 uur") };
    assert.equal((await offer(service, other)).status, 201);
    const token = await supplierToken(service, SUPPLIER);
    const api = await fetch(`${service.url}/api/v1/same-text`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(api.status, 200);
    const overview = await api.json();
    const agreements = (await (await fetch(`${service.url}/api/v1/agreements`, {
      headers: { Authorization: `Bearer ${token}` },
    })).json()).agreements as Array<{ board: string }>;
    assert.equal(overview.boardCount, agreements.length);
    for (
      const group of overview.groups as Array<{ textOid: string; boards: Array<{ id: string }> }>
    ) {
      for (const board of group.boards) {
        const blob = await historyGit(service, [
          "rev-parse",
          `HEAD:agreements/${board.id}/${SUPPLIER}/version/agreement.md`,
        ]);
        assert.equal(blob, group.textOid, `board ${board.id} is grouped by its text's blob`);
      }
    }
    const find = (board: string) =>
      (overview.groups as Array<{ textOid: string; boards: Array<{ id: string }> }>)
        .find((group) => group.boards.some((b) => b.id === board))!;
    assert.equal(find(BOARD.id).textOid, find(OTHER_BOARD.id).textOid);
    assert.notEqual(find(BOARD.id).textOid, find(third).textOid);

    const supplier = await supplierUser(service);
    const page = await supplier.page(`/suppliers/${SUPPLIER}/same-text`);
    assert.equal(page.status, 200);
    assert.match(page.html, new RegExp(`${overview.groups.length} verschillende teksten`));
    assert.match(page.html, /precies dezelfde tekst/);
    assert.doesNotMatch(page.html, /\((tree|blob)\)|Tekst-object|Git-object/);
    assert.match(page.html, /Technische gegevens[\s\S]*Git-oid/);
    const admin = new Browser(service.url);
    await admin.login({
      organisation: DEMO_OPERATOR_KVK,
      name: "Ada Beheer",
      mandates: ["beheer"],
    });
    assert.equal((await admin.page(`/suppliers/${SUPPLIER}/same-text`)).status, 200);
    const stranger = await supplierUser(service, OTHER_SUPPLIER);
    assert.equal((await stranger.page(`/suppliers/${SUPPLIER}/same-text`)).status, 403);
    assert.equal((await stranger.page(OFFER)).status, 403);
  }));

Deno.test("the offer pages work in Chromium, pass axe and are saved as screenshots", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id]);
    assert.equal((await offer(service, sample)).status, 201);
    const supplier = await supplierUser(service);
    const chromium = await launchChromium();
    try {
      const context = await chromium.newContext({ bypassCSP: true });
      await useSession(context, supplier, service.url);
      const page = await context.newPage();
      const problems = watchProblems(page);
      const violations: Record<string, Awaited<ReturnType<typeof axeViolations>>> = {};
      await page.goto(`${service.url}${OFFER}`);
      await page.getByLabel("Titel").fill("Verwerkersovereenkomst 2026");
      await page.locator("#textFile").setInputFiles({
        name: "overeenkomst.md",
        mimeType: "text/markdown",
        buffer: Buffer.from(sample.text.replace("24 uur", "48 uur")),
      });
      await page.locator("#products").fill(JSON.stringify(sample.products));
      await page.locator(`#board-${BOARD.id}`).check();
      await page.locator(`#board-${OTHER_BOARD.id}`).check();
      violations["offer form"] = await axeViolations(page);
      await screenshot(page, "supplier_offer_form");
      await page.getByRole("button", { name: "Voorbeeld bekijken" }).click();
      await page.getByRole("heading", { level: 1, name: "Voorbeeld van uw aanbod" }).waitFor();
      assert.match(await page.content(), /Gewijzigd sinds versie 1: wordt versie 2/);
      violations["preview"] = await axeViolations(page);
      await screenshot(page, "supplier_offer_preview");
      await page.getByRole("button", { name: "Aanbieden" }).click();
      await page.getByRole("heading", { level: 1, name: "Aanbod verwerkt" }).waitFor();
      violations["result"] = await axeViolations(page);
      await screenshot(page, "supplier_offer_result");
      assert.equal((await agreementStatus(service, BOARD.id)).current.version, 2);
      assert.equal((await agreementStatus(service, OTHER_BOARD.id)).current.version, 1);
      await page.goto(`${service.url}${OFFER}/product`);
      violations["product form"] = await axeViolations(page);
      await screenshot(page, "supplier_offer_product_form");
      await page.goto(`${service.url}/suppliers/${SUPPLIER}/same-text`);
      violations["same text"] = await axeViolations(page);
      await screenshot(page, "supplier_same_text");
      const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
      await useSession(context, reviewer, service.url);
      await page.goto(`${service.url}${agreementPath(BOARD.id, "compare")}`);
      await page.getByRole("heading", { name: "Vergelijking met het sectormodel" }).waitFor();
      violations["compare with model"] = await axeViolations(page);
      await screenshot(page, "reviewer_compare_with_model");
      await acceptTerms(reviewer, BOARD.id);
      const rejected = await reviewer.submit(agreementPath(BOARD.id, "reject"), {
        ...versionFields(await agreementStatus(service, BOARD.id)),
        reason: "Artikel 9 is te ruim.\n\nArtikel 12 noemt geen bewaartermijn.",
      });
      assert.equal(rejected.status, 303);
      await useSession(context, supplier, service.url);
      await page.goto(`${service.url}/suppliers/${SUPPLIER}#afwijzing-${BOARD.id}`);
      await page.getByRole("heading", { name: "Afgewezen versies" }).waitFor();
      violations["supplier overview with a rejection"] = await axeViolations(page);
      await screenshot(page, "supplier_overview_rejection");
      assert.deepEqual(problems, []);
      assert.equal(describeViolations(violations), "");
    } finally {
      await chromium.close();
    }
  }));

Deno.test("groupBySameText: largest group first, boards by name, whole versions split out", () => {
  const row = (id: string, name: string, textOid: string, versionOid: string) => ({
    board: { id, name },
    version: 1,
    state: "offered" as const,
    textOid,
    versionOid,
  });
  const overview = groupBySameText([
    row("00003", "Zuid", "b".repeat(40), "2".repeat(40)),
    row("00001", "Ámstel", "a".repeat(40), "1".repeat(40)),
    row("00002", "Noord", "a".repeat(40), "3".repeat(40)),
    row("00004", "Oost", "a".repeat(40), "1".repeat(40)),
  ]);
  assert.equal(overview.boardCount, 4);
  assert.deepEqual(overview.groups.map((g) => [g.textOid[0], g.boards.map((b) => b.name)]), [
    ["a", ["Ámstel", "Noord", "Oost"]],
    ["b", ["Zuid"]],
  ]);
  assert.deepEqual(overview.groups[0]!.versions, [
    { oid: "1".repeat(40), boards: ["00001", "00004"] },
    { oid: "3".repeat(40), boards: ["00002"] },
  ]);
  assert.deepEqual(groupBySameText([]), { groups: [], boardCount: 0 });
});
