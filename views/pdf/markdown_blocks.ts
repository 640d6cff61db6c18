import MarkdownIt from "markdown-it";
import type { Cell, PageWriter, Run } from "./page_writer.ts";

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

type Token = ReturnType<typeof markdown.parse>[number];

interface ListLevel {
  ordered: boolean;
  next: number;
}

const LIST_INDENT = 18;

/**
 * Writes Markdown (an agreement text) onto the pages: headings, paragraphs,
 * bulleted and numbered lists (nested), block quotes, code blocks, rules and
 * tables. Raw HTML is shown as text, as on the agreement page; a link shows
 * its address after its text. `headingBase` is the level the text's highest
 * heading gets.
 */
export function writeMarkdown(writer: PageWriter, source: string, headingBase = 2): void {
  const tokens = markdown.parse(source, {});
  const highest = Math.min(6, ...headingLevels(tokens));
  const lists: ListLevel[] = [];
  let marker: string | undefined;
  let quotes = 0;
  const indent = () => lists.length * LIST_INDENT + quotes * LIST_INDENT;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    switch (token.type) {
      case "heading_open":
        writer.heading(
          inlineText(tokens[index + 1]),
          headingBase + Number(token.tag.slice(1)) - highest,
        );
        index += 2;
        break;
      case "inline":
        writer.paragraph(inlineRuns(token), { indent: indent(), ...(marker ? { marker } : {}) });
        marker = undefined;
        break;
      case "bullet_list_open":
      case "ordered_list_open":
        lists.push({ ordered: token.type === "ordered_list_open", next: listStart(token) });
        break;
      case "bullet_list_close":
      case "ordered_list_close":
        lists.pop();
        break;
      case "list_item_open":
        marker = nextMarker(lists[lists.length - 1]);
        break;
      case "blockquote_open":
        quotes++;
        break;
      case "blockquote_close":
        quotes--;
        break;
      case "fence":
      case "code_block":
        writer.paragraph([{ text: token.content.replace(/\n$/, ""), style: "mono" }], {
          indent: indent() + 8,
          size: 9,
        });
        break;
      case "hr":
        writer.rule();
        break;
      case "table_open":
        index = writeTable(writer, tokens, index);
        break;
    }
  }
}

function headingLevels(tokens: Token[]): number[] {
  return tokens.filter((t) => t.type === "heading_open").map((t) => Number(t.tag.slice(1)));
}

function listStart(token: Token): number {
  const start = Number(token.attrGet("start") ?? 1);
  return Number.isFinite(start) ? start : 1;
}

function nextMarker(list: ListLevel | undefined): string {
  if (!list?.ordered) return "•";
  return `${list.next++}.`;
}

// Reads a table's rows from its tokens; returns the index of table_close.
function writeTable(writer: PageWriter, tokens: Token[], open: number): number {
  const rows: Cell[][] = [];
  let header: Cell[] | undefined;
  let row: Cell[] = [];
  let inHead = false;
  let index = open + 1;
  for (; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.type === "table_close") break;
    if (token.type === "thead_open") inHead = true;
    if (token.type === "thead_close") inHead = false;
    if (token.type === "tr_open") row = [];
    if (token.type === "inline") row.push(inlineRuns(token, inHead ? "bold" : "regular"));
    if (token.type === "tr_close") {
      if (inHead) header = row;
      else rows.push(row);
    }
  }
  const columns = Math.max(header?.length ?? 0, ...rows.map((cells) => cells.length), 1);
  writer.table({
    widths: columnWeights([header ?? [], ...rows], columns),
    ...(header ? { header } : {}),
    rows,
  });
  return index;
}

// A column gets room after its longest cell, within bounds so none gets too narrow.
function columnWeights(rows: Cell[][], columns: number): number[] {
  const length = (cell: Cell | undefined) =>
    typeof cell === "string"
      ? cell.length
      : (cell ?? []).reduce((n, run) => n + run.text.length, 0);
  return Array.from(
    { length: columns },
    (_, column) => Math.min(60, Math.max(8, ...rows.map((cells) => length(cells[column])))),
  );
}

function inlineText(token: Token | undefined): string {
  return inlineRuns(token).map((run) => run.text).join("");
}

/** The runs of one inline token: text, bold for strong, monospace for code. */
function inlineRuns(token: Token | undefined, base: "regular" | "bold" = "regular"): Run[] {
  const runs: Run[] = [];
  let bold = 0;
  const links: string[] = [];
  const style = () => (bold > 0 ? "bold" : base);
  for (const child of token?.children ?? []) {
    switch (child.type) {
      case "text":
      case "html_inline":
        runs.push({ text: child.content, style: style() });
        break;
      case "code_inline":
        runs.push({ text: child.content, style: "mono" });
        break;
      case "softbreak":
        runs.push({ text: " ", style: style() });
        break;
      case "hardbreak":
        runs.push({ text: "\n", style: style() });
        break;
      case "strong_open":
        bold++;
        break;
      case "strong_close":
        bold--;
        break;
      case "image":
        runs.push({ text: `[${child.content}]`, style: style() });
        break;
      case "link_open":
        links.push(String(child.attrGet("href") ?? ""));
        break;
      case "link_close":
        runs.push(...linkAddress(links.pop() ?? "", runs));
        break;
    }
  }
  return runs;
}

function linkAddress(href: string, runs: Run[]): Run[] {
  const shown = runs[runs.length - 1]?.text ?? "";
  const address = href.replace(/^mailto:/, "");
  if (address === "" || address === shown) return [];
  return [{ text: ` (${address})`, style: "regular" }];
}
