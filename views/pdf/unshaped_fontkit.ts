import fontkit from "@pdf-lib/fontkit";
import type { PDFDocument } from "pdf-lib";

type Fontkit = Parameters<PDFDocument["registerFontkit"]>[0];
type Font = ReturnType<Fontkit["create"]>;
type Glyph = ReturnType<Font["glyphForCodePoint"]>;
type GlyphRun = ReturnType<Font["layout"]>;

const parsed = new WeakMap<Uint8Array, Font>();

/**
 * The fontkit pdf-lib embeds fonts with, changed in two ways for speed:
 *
 * - a font file is parsed once per process, not once per document (each
 *   document still makes its own subset of it);
 * - text is mapped character by character to glyphs (remembered per code
 *   point) instead of being shaped. pdf-lib draws glyphs at their advance
 *   widths and ignores the positions shaping computes, so shaping would only
 *   cost time, most of a long document's, and add ligatures. Texts are stored
 *   in NFC, so accented letters have glyphs of their own. Measuring and
 *   drawing both use this mapping, so they agree.
 */
export const unshapedFontkit: Fontkit = {
  create(buffer: Uint8Array, postscriptName?: string): Font {
    let font = parsed.get(buffer);
    if (!font) {
      font = fontkit.create(buffer, postscriptName);
      unshape(font);
      parsed.set(buffer, font);
    }
    return font;
  },
};

function unshape(font: Font): void {
  const glyphs = new Map<number, Glyph>();
  const glyphOf = (code: number) => {
    let glyph = glyphs.get(code);
    if (!glyph) {
      glyph = font.glyphForCodePoint(code);
      glyphs.set(code, glyph);
    }
    return glyph;
  };
  font.layout = (text: string): GlyphRun => {
    const run: Glyph[] = [];
    for (const char of text) run.push(glyphOf(char.codePointAt(0)!));
    return { glyphs: run } as unknown as GlyphRun;
  };
}
