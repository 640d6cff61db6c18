import { deflateSync } from "node:zlib";
import { type PDFDocument, PDFFlateStream, PDFName, PDFRawStream } from "pdf-lib";

const FILTER = PDFName.of("Filter");
const FLATE = PDFName.of("FlateDecode");

/**
 * Compresses the page contents with node:zlib instead of pdf-lib's JavaScript
 * deflate, which would otherwise take a fifth of the time of a long document.
 * The streams keep the same Flate encoding, and the same content gives the
 * same bytes. Call it just before saving.
 */
export function compressPageContents(doc: PDFDocument): void {
  for (const [ref, object] of doc.context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFFlateStream) || object.dict.get(FILTER) !== FLATE) continue;
    const contents = deflateSync(object.getUnencodedContents());
    doc.context.assign(ref, PDFRawStream.of(object.dict, contents));
  }
}
