import assert from "node:assert/strict";
import { compareModel, type ModelComparison } from "../domain/compare_model.ts";
import { GDPR_28_3_OBLIGATIONS, MODEL_ARTICLES } from "../domain/model_structure.ts";

const SAMPLE = await Deno.readTextFile(
  new URL("../seed/sample/verwerkersovereenkomst.md", import.meta.url),
);
const SECOND = await Deno.readTextFile(
  new URL("../seed/sample/second_supplier/verwerkersovereenkomst.md", import.meta.url),
);

/** The text without one `##` article: from its heading up to the next `##` heading. */
function without(text: string, heading: string): string {
  const start = text.indexOf(heading);
  assert.notEqual(start, -1, `the text has "${heading}"`);
  const next = text.indexOf("\n## ", start + heading.length);
  return text.slice(0, start) + (next === -1 ? "" : text.slice(next + 1));
}

function replaced(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `the text has "${from}"`);
  return text.replace(from, to);
}

function missingIds(result: ModelComparison): string[] {
  return result.missing.map((article) => article.id);
}

Deno.test("both sample agreements follow the model: nothing missing, extra or uncovered", () => {
  for (const text of [SAMPLE, SECOND]) {
    const result = compareModel(text, { hasProducts: true });
    assert.deepEqual(missingIds(result), []);
    assert.deepEqual(result.deviations, []);
    assert.deepEqual(result.extra, []);
    assert.deepEqual(result.uncovered, []);
    assert.equal(result.articles.length, MODEL_ARTICLES.length);
    assert.ok(result.articles.every((article) => article.match === "title"));
    assert.equal(result.obligations.length, GDPR_28_3_OBLIGATIONS.length);
  }
});

Deno.test("a missing article is named, and an obligation covered elsewhere stays covered", () => {
  const result = compareModel(without(SAMPLE, "## Artikel 8 Datalekken"));
  assert.deepEqual(missingIds(result), ["datalekken"]);
  assert.deepEqual(result.missing[0], { id: "datalekken", title: "Datalekken", annex: false });
  assert.deepEqual(result.uncovered, []);
  const f = result.obligations.find((obligation) => obligation.point === "f")!;
  assert.deepEqual(f.foundIn, ["Artikel 9 Bijstand"]);
});

Deno.test("a renamed article is tied to the model by its content", () => {
  const title = "Artikel 8 Wat als het misgaat";
  const result = compareModel(replaced(SAMPLE, "## Artikel 8 Datalekken", `## ${title}`));
  assert.deepEqual(missingIds(result), []);
  assert.deepEqual(result.extra, []);
  assert.deepEqual(result.deviations, [{
    kind: "renamed",
    articles: [title],
    model: [{ id: "datalekken", title: "Datalekken", annex: false }],
  }]);
  assert.equal(result.articles.find((article) => article.title === title)?.match, "body");
});

Deno.test("a breach article named after the GDPR's words is not a merge with security", () => {
  for (const title of ["Melding van inbreuken op de beveiliging", "Beveiligingsinbreuken"]) {
    const heading = `Artikel 8 ${title}`;
    const result = compareModel(replaced(SAMPLE, "## Artikel 8 Datalekken", `## ${heading}`), {
      hasProducts: true,
    });
    assert.deepEqual(result.deviations, [], heading);
    assert.deepEqual(missingIds(result), []);
    assert.deepEqual(result.articles.find((article) => article.title === heading)?.model, [
      "datalekken",
    ]);
  }
});

Deno.test("merged and split articles are named", () => {
  const merged = replaced(
    replaced(SAMPLE, "## Artikel 7 Beveiliging, audits en certificering\n", ""),
    "## Artikel 6 Geheimhouding",
    "## Artikel 6 Geheimhouding en beveiliging",
  );
  const one = compareModel(merged);
  assert.deepEqual(one.deviations.map((d) => [d.kind, d.articles, d.model.map((m) => m.id)]), [
    ["merged", ["Artikel 6 Geheimhouding en beveiliging"], ["geheimhouding", "beveiliging"]],
  ]);
  assert.deepEqual(missingIds(one), []);

  const split = replaced(
    replaced(
      SAMPLE,
      "## Artikel 7 Beveiliging, audits en certificering",
      "## Artikel 7 Beveiliging",
    ),
    "7.5 Onderwijsinstelling mag controleren",
    "## Artikel 7a Audits\n\n7.5 Onderwijsinstelling mag controleren",
  );
  const two = compareModel(split);
  assert.deepEqual(two.deviations.map((d) => [d.kind, d.articles, d.model.map((m) => m.id)]), [
    ["split", ["Artikel 7 Beveiliging", "Artikel 7a Audits"], ["beveiliging"]],
  ]);
});

Deno.test("an obligation of art. 28(3) no article covers is listed as uncovered", () => {
  const noAudits = SAMPLE.replace(/(audit|controle|inspectie)\p{L}*/giu, "overleg");
  const result = compareModel(noAudits, { hasProducts: true });
  assert.deepEqual(result.uncovered, ["h"]);
  const h = result.obligations.find((obligation) => obligation.point === "h")!;
  assert.equal(h.covered, false);
  assert.deepEqual(h.foundIn, []);
  assert.deepEqual(missingIds(result), [], "the security article is still found by its title");

  const noDeletion = SECOND.replace(/(verwijder|vernietig|terug|retour)\p{L}*/giu, "bewaar");
  assert.deepEqual(compareModel(noDeletion).uncovered, ["g"]);
});

Deno.test("extra articles are listed; the privacybijsluiter annex may be structured data", () => {
  const extra =
    `${SAMPLE}\n## Artikel 17 Kunstmatige intelligentie\n\nWij trainen geen modellen.\n`;
  assert.deepEqual(compareModel(extra).extra, ["Artikel 17 Kunstmatige intelligentie"]);

  const noAnnex = without(SAMPLE, "## Bijlage 1 Privacybijsluiter");
  assert.deepEqual(missingIds(compareModel(noAnnex)), ["bijlage-privacybijsluiter"]);
  assert.deepEqual(missingIds(compareModel(noAnnex, { hasProducts: true })), []);
});

Deno.test("article headings are found at the level that repeats, and not inside code", () => {
  const text = [
    "# Artikel 1 Definities",
    "Begrippen hebben de betekenis uit de AVG.",
    "```",
    "# Artikel 2 Aansprakelijkheid",
    "```",
    "# Artikel 3 Geheimhouding",
    "## Een subkopje dat geen artikel is",
    "Alles blijft geheim.",
  ].join("\n");
  const result = compareModel(text);
  assert.deepEqual(result.articles.map((a) => [a.title, a.model]), [
    ["Artikel 1 Definities", ["definities"]],
    ["Artikel 3 Geheimhouding", ["geheimhouding"]],
  ]);
  assert.ok(missingIds(result).includes("aansprakelijkheid"));

  const plain = compareModel("Geen kopjes, wel geheimhouding door iedereen.");
  assert.deepEqual(plain.articles, []);
  assert.equal(plain.obligations.find((o) => o.point === "b")?.covered, true);
  assert.deepEqual(plain.obligations.find((o) => o.point === "b")?.foundIn, [""]);
});
