import { PDFArray, PDFDocument, PDFHexString } from "pdf-lib";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { VersionRef } from "../domain/state.ts";
import type { VersionEvent } from "../domain/version_evidence.ts";
import { ACTION_LABELS } from "./labels.ts";
import { writeAnnex } from "./pdf/annex_pages.ts";
import { writeEvidence } from "./pdf/evidence_page.ts";
import { writeMarkdown } from "./pdf/markdown_blocks.ts";
import { type FontFaces, type FontStyle, PageWriter } from "./pdf/page_writer.ts";
import { formatAmsterdamTime } from "./pdf/pdf_date.ts";
import { unshapedFontkit } from "./pdf/unshaped_fontkit.ts";
import { compressPageContents } from "./pdf/zlib_streams.ts";

/** The TrueType files the PDF embeds (subset); see store/pdf_fonts.ts. */
export type PdfFontFiles = Record<FontStyle, Uint8Array>;

/** Everything one version's PDF shows; plain data read from the history. */
export interface AgreementPdfData {
  board: { id: string; name: string; kvk: string };
  supplier: { id: string; name: string };
  title: string;
  version: VersionRef;
  /** When this version was offered; also the PDF's creation and modification date. */
  offeredAt: string;
  /** The agreement text (Markdown). */
  text: string;
  products: Privacybijsluiter[];
  /** The version's events, oldest first, with their commits. */
  events: VersionEvent[];
  /** The version's directory in the history repository. */
  versionPath: string;
}

const SUBSET_NAMES: Record<FontStyle, string> = {
  regular: "AKKREG+DejaVuSans",
  bold: "AKKBLD+DejaVuSans-Bold",
  mono: "AKKMON+DejaVuSansMono",
};

/**
 * One version of an agreement as a PDF: a title page, the text, each
 * product's privacybijsluiter and an evidence page. The same data and fonts
 * give the same bytes: the dates are the offer's, the document id comes from
 * the content, and nothing random is written.
 */
export async function renderAgreementPdf(
  data: AgreementPdfData,
  fonts: PdfFontFiles,
): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.registerFontkit(unshapedFontkit);
  const writer = new PageWriter(doc, await embedFaces(doc, fonts));
  writeTitlePage(writer, data);
  writer.newPage();
  writer.heading("Tekst van de overeenkomst", 1);
  writeMarkdown(writer, data.text);
  writer.newPage();
  writer.heading("Privacybijsluiters", 1);
  if (data.products.length === 0) {
    writer.paragraph([{ text: "Bij deze versie horen geen privacybijsluiters." }]);
  }
  for (const annex of data.products) writeAnnex(writer, annex);
  writeEvidence(writer, data);
  const footer = `${shorten(data.title, 70)} · versie ${data.version.version}`;
  writer.finish((page, count) => `${footer} · pagina ${page} van ${count}`);
  setMetadata(doc, data);
  compressPageContents(doc);
  return await doc.save({ useObjectStreams: false });
}

async function embedFaces(doc: PDFDocument, fonts: PdfFontFiles): Promise<FontFaces> {
  const face = async (style: FontStyle) => ({
    font: await doc.embedFont(fonts[style], { subset: true, customName: SUBSET_NAMES[style] }),
    key: fonts[style],
  });
  return { regular: await face("regular"), bold: await face("bold"), mono: await face("mono") };
}

function writeTitlePage(writer: PageWriter, data: AgreementPdfData): void {
  writer.newPage();
  writer.space(120);
  writer.paragraph([{ text: "Verwerkersovereenkomst", style: "bold" }], { muted: true });
  writer.heading(data.title, 1);
  writer.space(12);
  const last = data.events[data.events.length - 1];
  writer.table({
    widths: [1, 2.6],
    size: 10,
    rows: [
      ["Schoolbestuur", `${data.board.name} (DUO ${data.board.id}, KvK ${data.board.kvk})`],
      ["Leverancier", `${data.supplier.name} (KvK ${data.supplier.id})`],
      ["Versie", String(data.version.version)],
      ["Aangeboden", formatAmsterdamTime(data.offeredAt)],
      ...(last
        ? [[
          "Laatste stap",
          `${ACTION_LABELS[last.entry.action]}, ${formatAmsterdamTime(last.entry.at)}`,
        ]]
        : []),
      ["Oid van de versie", [{ text: data.version.oid, style: "mono" as const }]],
      ["Inhoud SHA-256", [{ text: data.version.contentSha256, style: "mono" as const }]],
    ],
  });
  writer.paragraph([{
    text: "Dit document is gemaakt uit de geschiedenis van Akkoord. Wat rechtsgeldig is, " +
      "staat in die geschiedenis; het bewijs achterin zegt hoe u dit document ermee vergelijkt.",
  }], { muted: true, size: 9 });
}

function setMetadata(doc: PDFDocument, data: AgreementPdfData): void {
  const at = new Date(data.offeredAt);
  doc.setTitle(`${data.title}, versie ${data.version.version}`);
  doc.setSubject(`Verwerkersovereenkomst van ${data.board.name} met ${data.supplier.name}`);
  doc.setAuthor(data.supplier.name);
  doc.setCreator("Akkoord");
  doc.setProducer("Akkoord");
  doc.setLanguage("nl-NL");
  doc.setCreationDate(at);
  doc.setModificationDate(at);
  const last = data.events.findLast((event) => event.commit !== null)?.commit;
  const permanent = data.version.contentSha256.slice(0, 32);
  const changing = (last ?? data.version.contentSha256).slice(0, 32);
  doc.context.trailerInfo.ID = PDFArray.withContext(doc.context);
  const id = doc.context.trailerInfo.ID as PDFArray;
  id.push(PDFHexString.of(permanent));
  id.push(PDFHexString.of(changing));
}

function shorten(text: string, length: number): string {
  const chars = [...text];
  return chars.length <= length ? text : `${chars.slice(0, length - 1).join("")}…`;
}
