import { HTTPException } from "hono/http-exception";
import { AGREEMENT_FILE, PRODUCTS_DIR } from "../domain/content.ts";
import { statusPath, versionDir } from "../domain/paths.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { AgreementStatus, Board, State, Supplier } from "../domain/state.ts";
import { versionEvents } from "../domain/version_evidence.ts";
import type { HistoryStore } from "../store/history.ts";
import { loadPdfFonts } from "../store/pdf_fonts.ts";
import { type AgreementPdfData, renderAgreementPdf } from "../views/agreement_pdf.ts";

/** The last segment of a version's PDF address: the version number and `.pdf`. */
export const PDF_FILE_PATTERN = "[1-9][0-9]{0,8}\\.pdf";

const decoder = new TextDecoder();

/**
 * The PDF of one version of an agreement (`file` is "<n>.pdf"), as a download.
 * The caller has authorised the reader for the agreement. 404 when the
 * agreement never had that version.
 */
export async function agreementPdfResponse(
  store: HistoryStore<State>,
  agreement: { board: Board; supplier: Supplier; status: AgreementStatus },
  file: string,
): Promise<Response> {
  const version = Number(file.replace(/\.pdf$/, ""));
  const data = await pdfData(store, agreement, version);
  const pdf = await renderAgreementPdf(data, await loadPdfFonts());
  const name =
    `verwerkersovereenkomst-${agreement.board.id}-${agreement.supplier.id}-v${version}.pdf`;
  return new Response(pdf as Uint8Array<ArrayBuffer>, {
    headers: {
      "Content-Type": "application/pdf",
      "Content-Disposition": `attachment; filename="${name}"`,
      "Cache-Control": "private, no-store",
    },
  });
}

async function pdfData(
  store: HistoryStore<State>,
  agreement: { board: Board; supplier: Supplier; status: AgreementStatus },
  version: number,
): Promise<AgreementPdfData> {
  const { board, supplier, status } = agreement;
  const offer = status.history.find((entry) => entry.version === version);
  if (!offer) {
    throw new HTTPException(404, { message: `Deze overeenkomst heeft geen versie ${version}.` });
  }
  const files = await store.readTreeFiles(offer.oid);
  const text = files.find((item) => item.path === AGREEMENT_FILE);
  const products = files
    .filter((item) => item.path.startsWith(`${PRODUCTS_DIR}/`))
    .map((item) => JSON.parse(decoder.decode(item.content)) as Privacybijsluiter);
  const commits = await store.log({ path: statusPath(status.board, status.supplier) });
  const events = versionEvents(status, version, commits);
  return {
    board: { id: board.id, name: board.name, kvk: board.kvk },
    supplier: { id: supplier.id, name: supplier.name },
    title: await titleOf(store, status, version, events[0]?.commit ?? null),
    version: { version, oid: offer.oid, contentSha256: offer.contentSha256 },
    offeredAt: offer.at,
    text: text ? decoder.decode(text.content) : "",
    products,
    events,
    versionPath: versionDir(status.board, status.supplier),
  };
}

// The title belongs to the offer; an older version's is in status.json as of its offer.
async function titleOf(
  store: HistoryStore<State>,
  status: AgreementStatus,
  version: number,
  offerCommit: string | null,
): Promise<string> {
  if (status.current.version === version) return status.current.title;
  if (offerCommit === null) return `Versie ${version}`;
  const bytes = await store.readFile(offerCommit, statusPath(status.board, status.supplier));
  if (bytes === null) return `Versie ${version}`;
  return (JSON.parse(decoder.decode(bytes)) as AgreementStatus).current.title;
}
