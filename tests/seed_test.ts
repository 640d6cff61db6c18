import assert from "node:assert/strict";
import { z } from "zod";
import { parseCsv } from "../domain/csv.ts";
import { DomainError } from "../domain/errors.ts";
import { BoardId, KvkNumber, SupplierId } from "../domain/ids.ts";
import { Privacybijsluiter } from "../domain/privacybijsluiter.ts";

const SEED = new URL("../seed/", import.meta.url);

const Supplier = z.strictObject({
  id: SupplierId,
  name: z.string().min(1),
  contactEmail: z.email(),
});

/** Where each supplier's sample agreement and product files live, and how long the text must be. */
const OFFERS = [
  { supplier: "99000001", dir: "sample/", minWords: 4000, products: 2 },
  { supplier: "99000002", dir: "sample/second_supplier/", minWords: 1000, products: 1 },
];

const REQUIRED_HEADINGS = [
  /^Partijen$/,
  /^Artikel \d+ Definities$/,
  /^Artikel \d+ Onderwerp en opdracht$/,
  /^Artikel \d+ Rollen( van Partijen)?$/,
  /^Artikel \d+ Privacyconvenant Onderwijs$/,
  /^Artikel \d+ Doelbinding$/,
  /^Artikel \d+ Geheimhouding$/,
  /^Artikel \d+ Beveiliging, audits en certificering$/,
  /^Artikel \d+ Datalekken$/,
  /^Artikel \d+ Bijstand$/,
  /^Artikel \d+ Doorgifte buiten de EER$/,
  /^Artikel \d+ Subverwerkers$/,
  /^Artikel \d+ Bewaren en verwijderen$/,
  /^Artikel \d+ Aansprakelijkheid$/,
  /^Artikel \d+ Wijzigingen en strijdigheid$/,
  /^Artikel \d+ Duur en beëindiging$/,
  /^Artikel \d+ Toepasselijk recht/,
  /^Ondertekening$/,
  /^Bijlage 1 Privacybijsluiter$/,
  /^Bijlage 2 Beveiligingsbijlage$/,
  /^Bijlage 3 Afwijkingen van het model$/,
  /^Bijlage 4 Subverwerkers$/,
];

function readSeed(path: string): Promise<string> {
  return Deno.readTextFile(new URL(path, SEED));
}

async function readSuppliers(): Promise<z.infer<typeof Supplier>[]> {
  return z.array(Supplier).parse(JSON.parse(await readSeed("suppliers.json")));
}

function countWords(markdown: string): number {
  return markdown.split(/\s+/).filter((token) => /\p{L}/u.test(token)).length;
}

function sectionHeadings(markdown: string): string[] {
  return markdown.split("\n").filter((line) => line.startsWith("## ")).map((line) =>
    line.slice(3).trim()
  );
}

function firstTableColumn(markdown: string): string[] {
  return markdown.split("\n").filter((line) => line.startsWith("|")).map((line) =>
    line.split("|")[1]?.trim() ?? ""
  );
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `no section "${heading}"`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

async function productFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL(`${dir}products/`, SEED))) {
    if (entry.isFile) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("the board list has 75 boards with 5-digit ids and 8-digit KvK numbers as text", async () => {
  const [header, ...rows] = parseCsv(await readSeed("duo_besturen.csv"));

  assert.deepEqual(header, ["bevoegd_gezag", "kvk", "naam", "sector"]);
  assert.equal(rows.length, 75);
  for (const row of rows) {
    assert.equal(row.length, 4, `row ${JSON.stringify(row)} has ${row.length} fields`);
    const [id, kvk, name, sector] = row;
    BoardId.parse(id);
    KvkNumber.parse(kvk);
    assert.ok(name && name.trim() === name && name.length > 0, `name ${JSON.stringify(name)}`);
    assert.match(sector ?? "", /^(bo|so|vo|mbo|ho)(\+(bo|so|vo|mbo|ho))*$/);
  }
  assert.equal(new Set(rows.map((row) => row[0])).size, 75, "board ids are unique");
  assert.ok(rows.some((row) => row[1]?.startsWith("0")), "leading zeros of KvK numbers are kept");
  assert.ok(rows.some((row) => row[2]?.includes(",")), "a quoted name with a comma is one field");
});

Deno.test("the demo contact address rule gives every board a valid .example address", async () => {
  const readme = await readSeed("README.md");
  assert.ok(readme.includes("privacy@bg<bevoegd_gezag>.besturen.example"));
  const [, ...rows] = parseCsv(await readSeed("duo_besturen.csv"));

  const addresses = rows.map((row) => `privacy@bg${row[0]}.besturen.example`);

  for (const address of addresses) z.email().parse(address);
  assert.equal(new Set(addresses).size, rows.length);
});

Deno.test("the demo suppliers have 8-digit KvK ids and .example addresses", async () => {
  const suppliers = await readSuppliers();

  assert.deepEqual(suppliers.map((s) => s.id), OFFERS.map((o) => o.supplier));
  for (const supplier of suppliers) assert.match(supplier.contactEmail, /\.example$/);
});

Deno.test("every product file is a valid privacybijsluiter named after its product", async () => {
  const suppliers = await readSuppliers();

  for (const offer of OFFERS) {
    const files = await productFiles(offer.dir);
    assert.equal(files.length, offer.products, `products in ${offer.dir}`);
    for (const file of files) {
      const result = Privacybijsluiter.safeParse(
        JSON.parse(await readSeed(`${offer.dir}products/${file}`)),
      );
      assert.ok(result.success, `${file}: ${result.error?.message}`);
      const bijsluiter = result.data;
      assert.equal(`${bijsluiter.product.id}.json`, file);
      const supplier = suppliers.find((s) => s.id === offer.supplier);
      assert.equal(bijsluiter.supplier.kvk, supplier?.id);
      assert.equal(bijsluiter.supplier.name, supplier?.name);
      assert.ok(bijsluiter.dataCategories.length >= 6, `${file} has 6+ data categories`);
      assert.ok(bijsluiter.dataCategories.some((c) => c.nationalIdentifier), `${file} flags a PGN`);
      assert.ok(bijsluiter.subProcessors.some((s) => !s.insideEea), `${file} has a non-EEA one`);
    }
  }
});

Deno.test("the sample agreements have every article of the model, in order, and enough text", async () => {
  for (const offer of OFFERS) {
    const text = await readSeed(`${offer.dir}verwerkersovereenkomst.md`);
    const headings = sectionHeadings(text);

    assert.ok(countWords(text) >= offer.minWords, `${offer.dir}: ${countWords(text)} words`);
    assert.equal(text.split("\n").filter((line) => /^# /.test(line)).length, 1, "one title");
    assert.doesNotMatch(text, /<\/?[a-z!][^>]*>/i, "no raw HTML");
    let from = 0;
    for (const required of REQUIRED_HEADINGS) {
      const at = headings.findIndex((heading, i) => i >= from && required.test(heading));
      assert.ok(at >= 0, `${offer.dir}: heading ${required} missing or out of order`);
      from = at + 1;
    }
    const articles = headings.flatMap((h) => h.match(/^Artikel (\d+) /)?.[1] ?? []).map(Number);
    assert.deepEqual(articles, articles.map((_, i) => i + 1), "articles numbered 1, 2, 3, ...");
  }
});

Deno.test("each agreement names its supplier and lists every sub-processor of its products", async () => {
  const suppliers = await readSuppliers();

  for (const offer of OFFERS) {
    const text = await readSeed(`${offer.dir}verwerkersovereenkomst.md`);
    const supplier = suppliers.find((s) => s.id === offer.supplier);
    assert.ok(supplier && text.includes(supplier.name) && text.includes(supplier.id));
    assert.ok(text.includes("Onderwijsinstelling"));
    const annex = section(text, "Bijlage 4 Subverwerkers");
    const listed = firstTableColumn(annex);
    assert.equal(listed[0], "Subverwerker", "the sub-processor list is a table");
    for (const file of await productFiles(offer.dir)) {
      const bijsluiter = Privacybijsluiter.parse(
        JSON.parse(await readSeed(`${offer.dir}products/${file}`)),
      );
      assert.ok(section(text, "Bijlage 1 Privacybijsluiter").includes(bijsluiter.product.id));
      for (const sub of bijsluiter.subProcessors) {
        assert.ok(listed.includes(sub.name), `${sub.name} of ${file} in Bijlage 4`);
      }
    }
  }
});

Deno.test("parseCsv keeps commas and doubled quotes inside quoted fields", () => {
  assert.deepEqual(parseCsv('a,"b, c","say ""hi""",""\n'), [["a", "b, c", 'say "hi"', ""]]);
});

Deno.test("parseCsv ends records at CRLF, LF or CR, and ignores a BOM and a final break", () => {
  const expected = [["id", "naam"], ["00008", "Één"], ["00009", "Twee"]];

  assert.deepEqual(parseCsv("\uFEFFid,naam\r\n00008,Één\r\n00009,Twee\r\n"), expected);
  assert.deepEqual(parseCsv("id,naam\n00008,Één\n00009,Twee"), expected);
  assert.deepEqual(parseCsv("id,naam\r00008,Één\r00009,Twee\r"), expected);
});

Deno.test("parseCsv keeps line breaks and empty fields inside records", () => {
  assert.deepEqual(parseCsv('x,"line 1\r\nline 2",\n,,\n'), [["x", "line 1\r\nline 2", ""], [
    "",
    "",
    "",
  ]]);
  assert.deepEqual(parseCsv(""), []);
});

Deno.test("parseCsv refuses an unterminated quote and stray quotes, naming the line", () => {
  const refusal = (line: number) => (err: unknown) =>
    err instanceof DomainError && err.code === "invalid_input" &&
    err.message.includes(`line ${line}`);

  assert.throws(() => parseCsv('a,b\n"open,c\n'), refusal(2));
  assert.throws(() => parseCsv('a,b\nc,d\ne,f"g\n'), refusal(3));
  assert.throws(() => parseCsv('"a"b,c\n'), refusal(1));
});
