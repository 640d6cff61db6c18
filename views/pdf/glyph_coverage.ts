import type { PDFFont } from "pdf-lib";

/** What stands in for a character the font cannot draw: visible, and found by a search. */
export const PLACEHOLDER = "\uFFFD";
const FALLBACK_PLACEHOLDER = "?";

const coverage = new WeakMap<object, Set<number>>();

/**
 * The code points a font has glyphs for, computed once per font file
 * (`key` is the font's bytes, shared by every document that embeds them).
 */
function coveredBy(font: PDFFont, key: object): Set<number> {
  let set = coverage.get(key);
  if (!set) {
    set = new Set(font.getCharacterSet());
    coverage.set(key, set);
  }
  return set;
}

/**
 * Text the font can draw: tabs become spaces, and every other control
 * character or character without a glyph becomes {@link PLACEHOLDER} (or "?"
 * when the font lacks that too), so nothing is dropped silently and nothing
 * throws while drawing.
 */
export function drawable(text: string, font: PDFFont, key: object): string {
  const covered = coveredBy(font, key);
  const placeholder = covered.has(0xfffd) ? PLACEHOLDER : FALLBACK_PLACEHOLDER;
  let out = "";
  let clean = true;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === "\t") {
      out += " ";
      clean = false;
    } else if (isControl(code) || !covered.has(code)) {
      out += placeholder;
      clean = false;
    } else {
      out += char;
    }
  }
  return clean ? text : out;
}

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}
