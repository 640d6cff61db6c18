import assert from "node:assert/strict";
import type { ActorRecord } from "../domain/actor.ts";
import type { HistoryAction, VersionRef } from "../domain/state.ts";
import { loadPdfFonts } from "../store/pdf_fonts.ts";
import { type AgreementPdfData, renderAgreementPdf } from "../views/agreement_pdf.ts";
import {
  acceptTerms,
  agreementStatus,
  BOARD,
  boardUser,
  offer,
  OTHER_BOARD,
  SUPPLIER,
  versionFields,
  withService,
} from "./helpers/board_flow.ts";
import { git, run } from "./helpers/git.ts";
import { sampleOffer, seedFile } from "./helpers/service.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const TURKISH_DUTCH_POLISH = "Gülşen Ĳzerman-Łukasiewicz";
const GREEK = "Αθηνά Παπαδοπούλου";
const VIETNAMESE = "Nguyễn Thị Minh Khai";
const NAMES = [TURKISH_DUTCH_POLISH, GREEK, VIETNAMESE];
const VERSION_DIR = `agreements/${BOARD.id}/${SUPPLIER}/version`;

/** The text of a PDF as poppler's stock `pdftotext` extracts it, with whitespace folded. */
async function pdfText(pdf: Uint8Array): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/agreement.pdf`, pdf);
    const text = await run("pdftotext", ["-enc", "UTF-8", `${dir}/agreement.pdf`, "-"]);
    return text.replace(/\s+/g, " ");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function actor(name: string, role: ActorRecord["role"]): ActorRecord {
  return {
    subject: `pseudoniem-${role}`,
    name,
    organisation: role === "leverancier" ? SUPPLIER : BOARD.kvk,
    assurance: "urn:etoegang:core:assurance-class:loa3",
    role,
  };
}

function event(action: HistoryAction, ref: VersionRef, at: string, who: ActorRecord) {
  return { entry: { action, ...ref, at, actor: who }, commit: action.padEnd(40, "0") };
}

async function sampleData(): Promise<AgreementPdfData> {
  const ref = { version: 3, oid: "1".repeat(40), contentSha256: "2".repeat(64) };
  const text = await seedFile("sample/verwerkersovereenkomst.md");
  return {
    board: { id: BOARD.id, name: "Stichting Van Hall Larenstein", kvk: BOARD.kvk },
    supplier: { id: SUPPLIER, name: "Schoolwijzer Demo B.V." },
    title: `Overeenkomst voor ${GREEK}`,
    version: ref,
    offeredAt: "2026-10-20T08:00:00Z",
    text: `${text}\n\n## Contactpersonen\n\n- ${NAMES.join("\n- ")}\n\n` +
      "Niet in het lettertype: 中文, een bel\u0007 en een tab\there.\n",
    products: [JSON.parse(await seedFile("sample/products/schoolwijzer-lvs.json"))],
    events: [
      event("offered", ref, "2026-10-20T08:00:00Z", actor("Sam Leverancier", "leverancier")),
      event("approved", ref, "2026-10-22T09:15:00Z", actor(TURKISH_DUTCH_POLISH, "beoordelen")),
      // 00:30 Amsterdam summer time on the night summer time ends.
      event("signed", ref, "2026-10-24T22:30:00Z", actor(VIETNAMESE, "ondertekenen")),
    ],
    versionPath: VERSION_DIR,
  };
}

Deno.test("the PDF draws Latin, Greek and Vietnamese names in title, text and evidence", async () => {
  const data = await sampleData();
  const text = await pdfText(await renderAgreementPdf(data, await loadPdfFonts()));

  assert.ok(text.includes(`Overeenkomst voor ${GREEK}`), "the title");
  for (const name of NAMES) {
    assert.ok(text.includes(`• ${name}`), `the list item ${name}`);
  }
  const evidence = text.slice(text.indexOf("Bewijs bij versie 3"));
  assert.ok(evidence.includes(`Door ${TURKISH_DUTCH_POLISH}`), "the reviewer on the evidence");
  assert.ok(evidence.includes(`Door ${VIETNAMESE}`), "the signatory on the evidence");
  assert.ok(evidence.includes(`Organisatie KvK ${BOARD.kvk}`));
  assert.ok(evidence.includes("Mandaat of rol ondertekenaar (ondertekenen)"));
  assert.ok(evidence.includes("urn:etoegang:core:assurance-class:loa3"));
  assert.ok(evidence.includes("signed".padEnd(40, "0")), "the signature's commit");
  assert.ok(evidence.includes(`git rev-parse ${"offered".padEnd(40, "0")}:${VERSION_DIR}`));
  assert.ok(text.includes("Persoonsgegevens in"), "the privacybijsluiter's tables");
});

Deno.test("characters the font lacks become a visible placeholder, nothing is dropped", async () => {
  const text = await pdfText(await renderAgreementPdf(await sampleData(), await loadPdfFonts()));

  assert.ok(text.includes("Niet in het lettertype: \uFFFD\uFFFD, een bel\uFFFD en een tab here."));
  assert.ok(!text.includes("中"));
});

Deno.test("a signature at 00:30 on the night summer time ends shows its day and offset", async () => {
  const text = await pdfText(await renderAgreementPdf(await sampleData(), await loadPdfFonts()));

  assert.ok(text.includes("Tijdstip 25 oktober 2026 00:30 (UTC+02:00) 2026-10-24T22:30:00Z"));
  assert.ok(text.includes("Tijdstip 22 oktober 2026 11:15 (UTC+02:00)"));
  assert.ok(text.includes("Laatste stap Ondertekend, 25 oktober 2026 00:30 (UTC+02:00)"));
});

Deno.test("the same version gives the same PDF bytes every time", async () => {
  const fonts = await loadPdfFonts();
  const first = await renderAgreementPdf(await sampleData(), fonts);
  const second = await renderAgreementPdf(await sampleData(), fonts);

  assert.deepEqual(second, first);
  const info = await run("pdfinfo", ["-isodates", "-"], { stdin: first });
  assert.match(info, /CreationDate:\s+2026-10-20T08:00:00(Z|\+00)/);
  assert.match(info, /Producer:\s+Akkoord/);
});

Deno.test("through HTTP a reviewer downloads the PDF of a version; another board may not", () =>
  withService(async (service) => {
    const body = await sampleOffer([BOARD.id], `Verwerkersovereenkomst ${GREEK}`);
    body.text += `\n\nContactpersoon: ${VIETNAMESE}.\n`;
    assert.equal((await offer(service, body)).status, 201);
    const reviewer = await boardUser(service, BOARD, ["beoordelen"], TURKISH_DUTCH_POLISH);
    await acceptTerms(reviewer, BOARD.id);
    const shown = versionFields(await agreementStatus(service, BOARD.id));
    const agreement = `/boards/${BOARD.id}/agreements/${SUPPLIER}`;
    await reviewer.page(agreement);
    assert.equal((await reviewer.submit(`${agreement}/approve`, shown)).status, 303);

    const { html } = await reviewer.page(agreement);
    assert.ok(html.includes(`href="${agreement}/versions/1.pdf"`), "the page links the PDF");
    const response = await reviewer.request(`${agreement}/versions/1.pdf`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("Content-Type"), "application/pdf");
    assert.equal(
      response.headers.get("Content-Disposition"),
      `attachment; filename="verwerkersovereenkomst-${BOARD.id}-${SUPPLIER}-v1.pdf"`,
    );
    const pdf = new Uint8Array(await response.arrayBuffer());
    const text = await pdfText(pdf);

    const repo = await historyGitDir(service.dir);
    const head = (await git(["--git-dir", repo, "rev-parse", "HEAD"])).trim();
    const tree = (await git(["--git-dir", repo, "rev-parse", `HEAD:${VERSION_DIR}`])).trim();
    assert.ok(text.includes(`Verwerkersovereenkomst ${GREEK}`), "the offered title");
    assert.ok(text.includes(`Contactpersoon: ${VIETNAMESE}.`), "the text");
    assert.ok(text.includes(`Door ${TURKISH_DUTCH_POLISH}`), "the reviewer");
    assert.ok(text.includes(`Commit ${head}`), "the approval's commit, as git knows it");
    assert.equal(tree, shown.oid);
    assert.ok(text.includes(`Oid van de versie (Git-tree) ${tree}`));
    assert.ok(text.includes(shown.contentSha256.slice(0, 40)), "the content SHA-256");

    const again = await reviewer.request(`${agreement}/versions/1.pdf`);
    assert.deepEqual(new Uint8Array(await again.arrayBuffer()), pdf, "a second download");
    const missing = await reviewer.request(`${agreement}/versions/2.pdf`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    const stranger = await boardUser(service, OTHER_BOARD, ["beoordelen", "ondertekenen"]);
    const refused = await stranger.request(`${agreement}/versions/1.pdf`);
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
  }));
