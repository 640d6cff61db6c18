import { type PDFDocument, type PDFFont, type PDFPage, rgb } from "pdf-lib";
import { drawable } from "./glyph_coverage.ts";

/** The look of a piece of text. */
export type FontStyle = "regular" | "bold" | "mono";

/** A piece of text in one style; a "\n" in it is a line break. */
export interface Run {
  text: string;
  style?: FontStyle;
}

/** One embedded font and the key its measurements are cached under (its file's bytes). */
export interface FontFace {
  font: PDFFont;
  key: object;
}

/** The three faces a document uses. */
export type FontFaces = Record<FontStyle, FontFace>;

/** A table cell: plain text or styled runs. */
export type Cell = string | Run[];

/** A table: column widths as fractions of the text width, an optional header, the rows. */
export interface TableSpec {
  widths: number[];
  header?: Cell[];
  rows: Cell[][];
  size?: number;
}

interface Segment {
  text: string;
  style: FontStyle;
  x: number;
}

type Line = Segment[];

interface Token {
  text: string;
  style: FontStyle;
  width: number;
  kind: "word" | "space" | "break";
}

const PAGE = { width: 595.28, height: 841.89 };
const MARGIN = { left: 56, right: 56, top: 64, bottom: 64 };
const TEXT_WIDTH = PAGE.width - MARGIN.left - MARGIN.right;
const BODY_SIZE = 10;
const LEADING = 1.35;
const CELL_PADDING = 4;
const HEADING_SIZES = [18, 14, 12, 11, 10, 10];
const INK = rgb(0.1, 0.1, 0.1);
const MUTED = rgb(0.35, 0.35, 0.35);
const RULE = rgb(0.6, 0.6, 0.6);
const HEADER_FILL = rgb(0.92, 0.92, 0.92);
const WIDTH_CACHE_LIMIT = 100_000;

// Measuring a word means a shaping pass of the font; a text repeats its words
// a great deal, so widths at size 1 are kept per font file across documents.
const widthCaches = new WeakMap<object, Map<string, number>>();

/**
 * Lays text out on A4 pages from top to bottom: headings, wrapped paragraphs
 * with optional list markers, tables whose rows continue on the next page,
 * and a footer on every page. Pure: it only draws into the pdf-lib document.
 */
export class PageWriter {
  #doc: PDFDocument;
  #faces: FontFaces;
  #page: PDFPage | null = null;
  #y = 0;

  constructor(doc: PDFDocument, faces: FontFaces) {
    this.#doc = doc;
    this.#faces = faces;
  }

  /** Starts a new page. */
  newPage(): void {
    this.#page = this.#doc.addPage([PAGE.width, PAGE.height]);
    this.#y = PAGE.height - MARGIN.top;
  }

  /** Moves down by `points`, or starts a new page when that leaves no room. */
  space(points: number): void {
    if (this.#page === null) this.newPage();
    this.#y -= points;
    if (this.#y < MARGIN.bottom) this.newPage();
  }

  /** A heading of level 1 to 6, kept on a page with at least three lines after it. */
  heading(text: string, level: number): void {
    const size = HEADING_SIZES[Math.min(Math.max(level, 1), 6) - 1]!;
    const lines = this.#wrap([{ text, style: "bold" }], TEXT_WIDTH, size);
    this.#room(lines.length * size * LEADING + size * 0.6 + 3 * BODY_SIZE * LEADING);
    if (this.#y < PAGE.height - MARGIN.top) this.#y -= size * 0.6;
    this.#drawLines(lines, MARGIN.left, size, INK);
    this.#y -= size * 0.3;
  }

  /** A wrapped paragraph, optionally indented and with a list marker before it. */
  paragraph(
    runs: Run[],
    options: { size?: number; indent?: number; marker?: string; muted?: boolean } = {},
  ): void {
    const size = options.size ?? BODY_SIZE;
    const indent = options.indent ?? 0;
    const lines = this.#wrap(runs, TEXT_WIDTH - indent, size);
    const color = options.muted ? MUTED : INK;
    lines.forEach((line, index) => {
      this.#room(size * LEADING);
      this.#y -= size * LEADING;
      const marker = index === 0 && options.marker ? this.#marker(options.marker, size) : [];
      this.#draw([...marker, ...line], MARGIN.left + indent, size, color);
    });
    this.#y -= size * 0.5;
  }

  /** A horizontal line across the text width. */
  rule(): void {
    this.#room(BODY_SIZE);
    this.#y -= BODY_SIZE / 2;
    this.#current().drawLine({
      start: { x: MARGIN.left, y: this.#y },
      end: { x: PAGE.width - MARGIN.right, y: this.#y },
      thickness: 0.5,
      color: RULE,
    });
    this.#y -= BODY_SIZE / 2;
  }

  /** A table with borders; the header is repeated on every page the table runs onto. */
  table(spec: TableSpec): void {
    const size = spec.size ?? BODY_SIZE - 1;
    const total = spec.widths.reduce((sum, width) => sum + width, 0);
    const widths = spec.widths.map((width) => (width / total) * TEXT_WIDTH);
    const layout = (cells: Cell[], bold: boolean) =>
      widths.map((width, column) =>
        this.#wrap(runsOf(cells[column] ?? "", bold), width - 2 * CELL_PADDING, size)
      );
    const header = spec.header ? layout(spec.header, true) : null;
    const drawHeader = () => {
      if (header) this.#row(header, widths, size, true);
    };
    this.#room(size * LEADING * 3 + 2 * CELL_PADDING);
    drawHeader();
    for (const cells of spec.rows) this.#row(layout(cells, false), widths, size, false, drawHeader);
    this.#y -= size * 0.8;
  }

  /** Draws `footer(page, count)` at the bottom of every page. */
  finish(footer: (page: number, count: number) => string): void {
    const pages = this.#doc.getPages();
    pages.forEach((page, index) => {
      const text = this.#text(footer(index + 1, pages.length), "regular");
      page.drawText(text, {
        x: MARGIN.left,
        y: MARGIN.bottom / 2,
        size: 8,
        font: this.#faces.regular.font,
        color: MUTED,
      });
    });
  }

  #row(
    cells: Line[][],
    widths: number[],
    size: number,
    header: boolean,
    onNewPage: () => void = () => {},
  ): void {
    const lineHeight = size * LEADING;
    const tallest = Math.max(1, ...cells.map((lines) => lines.length));
    let start = 0;
    while (start < tallest) {
      const fits = Math.floor((this.#y - MARGIN.bottom - 2 * CELL_PADDING) / lineHeight);
      if (fits < Math.min(2, tallest - start)) {
        this.newPage();
        if (!header) onNewPage();
        continue;
      }
      const count = Math.min(fits, tallest - start);
      this.#rowPart(cells, widths, { size, header, start, count });
      start += count;
    }
  }

  #rowPart(
    cells: Line[][],
    widths: number[],
    part: { size: number; header: boolean; start: number; count: number },
  ): void {
    const height = part.count * part.size * LEADING + 2 * CELL_PADDING;
    const top = this.#y;
    const page = this.#current();
    let x = MARGIN.left;
    cells.forEach((lines, column) => {
      const width = widths[column]!;
      page.drawRectangle({
        x,
        y: top - height,
        width,
        height,
        borderColor: RULE,
        borderWidth: 0.5,
        ...(part.header ? { color: HEADER_FILL } : {}),
      });
      this.#y = top - CELL_PADDING;
      this.#drawLines(
        lines.slice(part.start, part.start + part.count),
        x + CELL_PADDING,
        part.size,
        INK,
      );
      x += width;
    });
    this.#y = top - height;
  }

  #marker(text: string, size: number): Segment[] {
    const marker = this.#text(text, "regular");
    return [{ text: marker, style: "regular", x: -this.#width(marker, "regular", size) - 4 }];
  }

  #room(height: number): void {
    if (this.#page === null || this.#y - height < MARGIN.bottom) this.newPage();
  }

  #current(): PDFPage {
    if (this.#page === null) this.newPage();
    return this.#page!;
  }

  #drawLines(lines: Line[], left: number, size: number, color: ReturnType<typeof rgb>): void {
    for (const line of lines) {
      this.#y -= size * LEADING;
      this.#draw(line, left, size, color);
    }
  }

  // Draws at the current baseline, which #drawLines has already moved to.
  #draw(line: Line, left: number, size: number, color: ReturnType<typeof rgb>): void {
    const page = this.#current();
    const baseline = this.#y + size * (LEADING - 1);
    for (const segment of line) {
      page.drawText(segment.text, {
        x: left + segment.x,
        y: baseline,
        size,
        font: this.#faces[segment.style].font,
        color,
      });
    }
  }

  #wrap(runs: Run[], width: number, size: number): Line[] {
    const lines: Line[] = [];
    let line: Token[] = [];
    let used = 0;
    const flush = () => {
      while (line.length > 0 && line[line.length - 1]!.kind === "space") line.pop();
      lines.push(segmentsOf(line));
      line = [];
      used = 0;
    };
    for (const token of this.#tokens(runs, size)) {
      if (token.kind === "break") {
        flush();
      } else if (token.kind === "space") {
        if (line.length > 0) {
          line.push(token);
          used += token.width;
        }
      } else {
        for (const piece of this.#fit(token, width, size)) {
          if (used + piece.width > width && line.length > 0) flush();
          line.push(piece);
          used += piece.width;
        }
      }
    }
    if (line.length > 0 || lines.length === 0) flush();
    return lines;
  }

  // A word wider than the line is cut into pieces that fit (oids, addresses).
  #fit(token: Token, width: number, size: number): Token[] {
    if (token.width <= width) return [token];
    const pieces: Token[] = [];
    let text = "";
    for (const char of token.text) {
      const next = text + char;
      if (text !== "" && this.#width(next, token.style, size) > width) {
        pieces.push({ ...token, text, width: this.#width(text, token.style, size) });
        text = char;
      } else {
        text = next;
      }
    }
    pieces.push({ ...token, text, width: this.#width(text, token.style, size) });
    return pieces;
  }

  #tokens(runs: Run[], size: number): Token[] {
    const tokens: Token[] = [];
    for (const run of runs) {
      const style = run.style ?? "regular";
      for (const part of run.text.split(/(\n|[ \t\u00a0]+)/)) {
        if (part === "") continue;
        if (part === "\n") {
          tokens.push({ text: "", style, width: 0, kind: "break" });
        } else if (/^[ \t\u00a0]+$/.test(part)) {
          tokens.push({ text: " ", style, width: this.#width(" ", style, size), kind: "space" });
        } else {
          const text = this.#text(part, style);
          tokens.push({ text, style, width: this.#width(text, style, size), kind: "word" });
        }
      }
    }
    return tokens;
  }

  #text(text: string, style: FontStyle): string {
    const face = this.#faces[style];
    return drawable(text, face.font, face.key);
  }

  #width(text: string, style: FontStyle, size: number): number {
    const face = this.#faces[style];
    let cache = widthCaches.get(face.key);
    if (!cache) {
      cache = new Map();
      widthCaches.set(face.key, cache);
    }
    let width = cache.get(text);
    if (width === undefined) {
      width = face.font.widthOfTextAtSize(text, 1);
      if (cache.size >= WIDTH_CACHE_LIMIT) cache.clear();
      cache.set(text, width);
    }
    return width * size;
  }
}

function runsOf(cell: Cell, bold: boolean): Run[] {
  if (typeof cell !== "string") return cell;
  return [{ text: cell, style: bold ? "bold" : "regular" }];
}

// Neighbouring tokens of one style become one drawText call.
function segmentsOf(tokens: Token[]): Line {
  const segments: Line = [];
  let x = 0;
  for (const token of tokens) {
    const last = segments[segments.length - 1];
    if (last && last.style === token.style) {
      last.text += token.text;
    } else {
      segments.push({ text: token.text, style: token.style, x });
    }
    x += token.width;
  }
  return segments;
}
