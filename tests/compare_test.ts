import assert from "node:assert/strict";
import { compareProducts } from "../domain/compare_products.ts";
import { type ArticleChange, compareTexts } from "../domain/compare_text.ts";
import { canonicalText } from "../domain/content.ts";
import { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import {
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  offer,
  OTHER_BOARD,
  SUPPLIER,
  withService,
} from "./helpers/board_flow.ts";
import { Browser, sampleOffer, supplierToken, type TestService } from "./helpers/service.ts";
import { git } from "./helpers/git.ts";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import {
  axeViolations,
  describeViolations,
  launchChromium,
  screenshot,
} from "./helpers/browser.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const SAMPLE = await Deno.readTextFile(
  new URL("../seed/sample/verwerkersovereenkomst.md", import.meta.url),
);
const LVS = Privacybijsluiter.parse(
  JSON.parse(
    await Deno.readTextFile(
      new URL("../seed/sample/products/schoolwijzer-lvs.json", import.meta.url),
    ),
  ),
);

function article(articles: ArticleChange[], key: string): ArticleChange {
  const found = articles.find((a) => a.key === key);
  assert.ok(found, `article "${key}" is in the comparison`);
  return found;
}

function notUnchanged(articles: ArticleChange[]): ArticleChange[] {
  return articles.filter((a) => a.kind !== "unchanged");
}

Deno.test("a text resent with CRLF line endings compares as identical", () => {
  const result = compareTexts(SAMPLE, SAMPLE.replace(/\n/g, "\r\n"));
  assert.equal(result.identical, true);
  assert.equal(result.coarse, false);
  assert.deepEqual(notUnchanged(result.articles), []);
  assert.ok(result.counts.unchanged > 30);
});

Deno.test("re-indented list items, reflowed lines and trailing spaces are layout only", () => {
  const older =
    "## Artikel 1 Lijst\n\nDe partijen:\n- een\n- twee\n\nEen zin die doorloopt\nop de volgende regel.\n";
  const newer =
    "## Artikel 1 Lijst\n\nDe partijen:   \n    - een\n    - twee\n\nEen zin die doorloopt op de volgende regel.\n";
  const result = compareTexts(older, newer);
  assert.equal(result.identical, false);
  const changed = article(result.articles, "artikel lijst");
  assert.equal(changed.kind, "layout");
  assert.deepEqual(changed.paragraphs.map((p) => p.kind), ["layout", "layout"]);
  assert.equal(result.counts.changed, 0);
});

Deno.test("re-aligned Markdown tables in the sample are layout only", () => {
  const realigned = SAMPLE.replace(/ {2,}\|/g, " |");
  assert.notEqual(realigned, SAMPLE);
  const result = compareTexts(SAMPLE, realigned);
  assert.equal(result.counts.changed, 0);
  assert.ok(result.counts.layout >= 1);
});

Deno.test("two swapped articles are reported as a move, not as a rewrite", () => {
  const five = section(SAMPLE, "## Artikel 5 Doelbinding");
  const six = section(SAMPLE, "## Artikel 6 Geheimhouding");
  const swapped = SAMPLE.replace(five + six, six + five);
  assert.notEqual(swapped, SAMPLE);
  const result = compareTexts(SAMPLE, swapped);
  const changes = notUnchanged(result.articles);
  assert.equal(changes.length, 1, JSON.stringify(changes.map((a) => [a.key, a.kind])));
  assert.equal(changes[0]!.kind, "moved");
  assert.ok(["artikel doelbinding", "artikel geheimhouding"].includes(changes[0]!.key));
  assert.equal(result.counts.changed, 0);
});

Deno.test("an inserted article renumbers the ones after it, matched by title", () => {
  const renumbered = SAMPLE.replace(
    /^## Artikel (\d+) /gm,
    (_, n: string) => `## Artikel ${Number(n) >= 5 ? Number(n) + 1 : n} `,
  ).replace(
    "## Artikel 6 Doelbinding",
    "## Artikel 5 Kinderrechten\n\n5.1 Leverancier weegt de belangen van kinderen zwaar.\n\n## Artikel 6 Doelbinding",
  );
  const result = compareTexts(SAMPLE, renumbered);
  assert.equal(article(result.articles, "artikel kinderrechten").kind, "added");
  const doelbinding = article(result.articles, "artikel doelbinding");
  assert.equal(doelbinding.kind, "renumbered");
  assert.deepEqual(doelbinding.number, { from: "Artikel 5", to: "Artikel 6" });
  assert.equal(doelbinding.moved, false);
  assert.equal(article(result.articles, "artikel definities").kind, "unchanged");
  assert.equal(result.counts.renumbered, 12);
  assert.equal(result.counts.changed, 0);
});

Deno.test("a changed paragraph carries its word changes", () => {
  const changed = SAMPLE.replace("binnen 24 uur", "binnen 72 uur");
  assert.notEqual(changed, SAMPLE);
  const result = compareTexts(SAMPLE, changed);
  const [only] = notUnchanged(result.articles);
  assert.equal(only?.kind, "changed");
  const paragraph = only.paragraphs.find((p) => p.kind === "changed");
  assert.ok(paragraph?.words);
  assert.deepEqual(
    paragraph.words.filter((w) => w.op !== "equal").map((w) => [w.op, w.text]),
    [["delete", "24"], ["insert", "72"]],
  );
});

Deno.test("an added and a removed article are named", () => {
  const without = SAMPLE.replace(section(SAMPLE, "## Artikel 9 Bijstand"), "") +
    "\n## Artikel 17 Slotbepaling\n\nNieuw.\n";
  const result = compareTexts(SAMPLE, without);
  assert.equal(article(result.articles, "artikel bijstand").kind, "removed");
  assert.equal(article(result.articles, "artikel slotbepaling").kind, "added");
});

Deno.test("pathological inputs return a coarse comparison", () => {
  const a = randomText(500_000, 1);
  const b = randomText(500_000, 2);
  const wholly = compareTexts(a, b);
  assert.equal(wholly.coarse, true);
  assert.equal(wholly.identical, false);

  const small = SAMPLE.slice(0, 2_000);
  const grown = compareTexts(small, small + "woord ".repeat(50_000));
  assert.equal(grown.coarse, true);
  assert.ok(grown.counts.changed >= 1);

  const paragraphs = (seed: number) =>
    Array.from({ length: 6_000 }, (_, i) => `Alinea ${i} ${randomText(40, seed + i)}`).join("\n\n");
  const many = compareTexts(paragraphs(10), paragraphs(20_000));
  assert.equal(many.coarse, true);

  const spacedHeading = compareTexts("a\n", `## Artikel 1 x${" \t".repeat(100_000)}y\n\ntekst\n`);
  assert.equal(article(spacedHeading.articles, "artikel x y").kind, "added");
  const blankLines = compareTexts("a\n", `a${"\n".repeat(300_000)}b\n`);
  assert.equal(blankLines.identical, false);

  const oversized = compareTexts("a ".repeat(600_000), "b ".repeat(600_000));
  assert.equal(oversized.coarse, true);
  assert.equal(oversized.articles.length, 1);
});

Deno.test("annex changes are named, and risky additions flagged", () => {
  const changed = structuredClone(LVS);
  changed.subProcessors.push({
    name: "Analyse Overzee LLC",
    service: "Gebruiksanalyse",
    country: "US",
    insideEea: false,
    transferSafeguard: "Standaardcontractbepalingen",
  });
  changed.subProcessors = changed.subProcessors.filter((s) => s.name !== "Berichtenpost GmbH");
  changed.dataCategories.push({
    name: "Burgerservicenummer",
    special: false,
    nationalIdentifier: true,
    retention: "Tot einde inschrijving",
  });
  changed.dataCategories[2]!.retention = "Vijf jaar na uitschrijving";
  changed.purposes.push("Het verbeteren van het product met gebruiksgegevens.");
  changed.storageLocation = "Ierland";
  const result = compareProducts([LVS], [changed]);
  assert.equal(result.length, 1);
  assert.equal(result[0]!.kind, "changed");
  const changes = result[0]!.changes.map((c) => [c.field, c.change, c.subject, c.risk ?? null]);
  assert.deepEqual(changes, [
    ["subProcessor", "added", "Analyse Overzee LLC", "outside_eea"],
    ["subProcessor", "removed", "Berichtenpost GmbH", null],
    ["retention", "changed", LVS.dataCategories[2]!.name, null],
    ["dataCategory", "added", "Burgerservicenummer", "national_identifier"],
    ["purpose", "added", "Het verbeteren van het product met gebruiksgegevens.", null],
    ["storageLocation", "changed", "storageLocation", null],
  ]);
  const retention = result[0]!.changes.find((c) => c.field === "retention")!;
  assert.equal(retention.from, LVS.dataCategories[2]!.retention);
  assert.equal(retention.to, "Vijf jaar na uitschrijving");
  assert.deepEqual(compareProducts([LVS], [LVS]).map((p) => p.kind), ["unchanged"]);
  assert.deepEqual(compareProducts([LVS], []).map((p) => p.kind), ["removed"]);
});

Deno.test("compare page: a reviewer sees escaped word changes; another board is refused", () =>
  withService(async (service) => {
    const first = await sampleOffer([BOARD.id]);
    assert.equal((await offer(service, first)).status, 201);
    const resent = { ...first, text: first.text.replace(/\n/g, "\r\n") + "   \r\n" };
    const again = await (await offer(service, resent)).json();
    assert.deepEqual(again.agreements.map((a: { outcome: string }) => a.outcome), ["unchanged"]);

    const script = "<script>alert('x')</script>";
    const second = {
      ...first,
      text: first.text.replace("binnen 24 uur", `binnen ${script} uur`),
      products: [{ ...LVS, storageLocation: "Ierland" }],
    };
    assert.notEqual(second.text, first.text);
    assert.equal((await offer(service, second)).status, 201);
    assert.equal((await agreementStatus(service, BOARD.id)).current.version, 2);

    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    const agreementPage = await reviewer.page(agreementPath(BOARD.id));
    assert.match(agreementPage.html, /Vergelijk met versie 1/);
    const page = await reviewer.page(agreementPath(BOARD.id, "compare"));
    assert.equal(page.status, 200);
    assert.match(page.html, /Versie 1 vergeleken met versie 2/);
    assert.ok(!page.html.includes(script), "the markup is not passed through");
    assert.ok(page.html.includes("&lt;script>alert('x')&lt;/script>"), "the markup is escaped");
    assert.match(page.html, /<del><span class="akkoord-visually-hidden">\[verwijderd: <\/span>24/);
    assert.match(page.html, /<ins><span class="akkoord-visually-hidden">\[toegevoegd: /);
    assert.match(page.html, /Opslaglocatie gewijzigd, van <del>/);

    const explicit = await reviewer.page(`${agreementPath(BOARD.id, "compare")}?from=2&to=2`);
    assert.equal(explicit.status, 200);
    assert.match(explicit.html, /De tekst van beide versies is gelijk/);
    const missing = await reviewer.page(`${agreementPath(BOARD.id, "compare")}?from=7`);
    assert.equal(missing.status, 404);
    const malformed = await reviewer.page(`${agreementPath(BOARD.id, "compare")}?from=HEAD`);
    assert.equal(malformed.status, 400);

    const other = await boardUser(service, OTHER_BOARD, ["beoordelen"], "Olga Ander");
    const refused = await other.page(agreementPath(BOARD.id, "compare"));
    assert.equal(refused.status, 403);
    assert.ok(!refused.html.includes("alert("));

    const token = await supplierToken(service, SUPPLIER);
    const api = await fetch(`${service.url}/api/v1/agreements/${BOARD.id}/compare?from=1&to=2`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(api.status, 200);
    const json = await api.json();
    assert.equal(json.comparison.text.counts.changed, 1);
    assert.equal(json.comparison.products[0].changes[0].field, "storageLocation");
    const same = await fetch(`${service.url}/api/v1/agreements/${BOARD.id}/compare?from=1&to=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal((await same.json()).comparison.text.identical, true);
    assert.equal(canonicalText(resent.text), canonicalText(first.text));
  }));

Deno.test("in Chromium: the compare page passes axe-core", () =>
  withService(async (service) => {
    await offerTwoVersions(service);
    const chromium = await launchChromium();
    try {
      // The page's CSP forbids the inline axe script, so this context bypasses it.
      const context = await chromium.newContext({ bypassCSP: true, locale: "nl-NL" });
      const page = await context.newPage();
      await page.goto(`${service.url}/login`);
      await page.getByLabel("Organisatie").selectOption(BOARD.kvk);
      await page.getByLabel("Uw naam").fill("Anna de Vries");
      await page.locator("#mandate-beoordelen").setChecked(true);
      await page.getByRole("button", { name: "Inloggen" }).click();
      await page.waitForURL(new RegExp(`/boards/${BOARD.id}$`));
      await page.goto(`${service.url}${agreementPath(BOARD.id)}`);
      await page.getByRole("link", { name: "Vergelijk met versie 1" }).click();
      await page.getByRole("heading", { level: 2, name: "Versie 1 vergeleken met versie 2" })
        .waitFor();
      await screenshot(page, "compare_01_reviewer");
      const violations = { compare: await axeViolations(page) };
      assert.equal(
        violations.compare.length,
        0,
        `axe-core found violations:\n${describeViolations(violations)}`,
      );
    } finally {
      await chromium.close();
    }
  }));

Deno.test("admin compare page: two commits of any agreement, found by their offer trailers", () =>
  withService(async (service) => {
    await offerTwoVersions(service);
    const log = await git([
      "--git-dir",
      await historyGitDir(service.dir),
      "log",
      "--format=%H %(trailers:key=Event,valueonly,separator=)",
      `--grep=^Agreement: ${BOARD.id}/${SUPPLIER} version`,
    ]);
    const offers = log.trim().split("\n").filter((line) => line.endsWith(" offered"))
      .map((line) => line.split(" ")[0]!);
    assert.equal(offers.length, 2, log);
    const [second, first] = offers;
    const admin = new Browser(service.url);
    await admin.login({
      organisation: DEMO_OPERATOR_KVK,
      name: "Ada Beheer",
      mandates: ["beheer"],
    });
    const query = `board=${BOARD.id}&supplier=${SUPPLIER}`;
    const byCommit = await admin.page(`/admin/compare?${query}&from=${first}&to=${second}`);
    assert.equal(byCommit.status, 200);
    assert.match(byCommit.html, /Versie 1 vergeleken met versie 2/);
    assert.match(
      byCommit.html,
      /<del><span class="akkoord-visually-hidden">\[verwijderd: <\/span>24/,
    );
    const byVersion = await admin.page(`/admin/compare?${query}&from=1&to=2`);
    assert.equal(byVersion.status, 200);
    assert.match(byVersion.html, /Opslaglocatie gewijzigd/);
    const unknown = await admin.page(`/admin/compare?${query}&from=${"0".repeat(40)}`);
    assert.equal(unknown.status, 404);

    const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
    const refused = await reviewer.page(`/admin/compare?${query}&from=1&to=2`);
    assert.equal(refused.status, 403);
    const noCommits = await reviewer.page(`${agreementPath(BOARD.id, "compare")}?from=${first}`);
    assert.equal(noCommits.status, 400, "board pages take version numbers only");
  }));

/** Offers the sample, then a second version with one sentence and the storage location changed. */
async function offerTwoVersions(service: TestService): Promise<void> {
  const first = await sampleOffer([BOARD.id]);
  assert.equal((await offer(service, first)).status, 201);
  const second = {
    ...first,
    text: first.text.replace("binnen 24 uur", "binnen 48 uur"),
    products: [{ ...LVS, storageLocation: "Ierland" }],
  };
  assert.equal((await offer(service, second)).status, 201);
}

/** The section of `text` from `heading` up to the next `## ` heading. */
function section(text: string, heading: string): string {
  const start = text.indexOf(heading);
  assert.notEqual(start, -1, heading);
  const next = text.indexOf("\n## ", start + heading.length);
  return text.slice(start, next + 1);
}

function randomText(chars: number, seed: number): string {
  let state = seed;
  const words: string[] = [];
  let length = 0;
  while (length < chars) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const word = state.toString(36).slice(0, 3 + (state % 7));
    words.push(word);
    length += word.length + 1;
  }
  return words.join(state % 2 === 0 ? " " : "\n");
}
