import { diffArrays, diffWordsWithSpace } from "diff";

/** How one article's content compares between two texts. */
export type ArticleKind =
  | "unchanged"
  | "added"
  | "removed"
  | "moved"
  | "renumbered"
  | "changed"
  | "layout";

/** How one paragraph compares: `layout` means the same words with other white space. */
export type ParagraphKind = "unchanged" | "layout" | "added" | "removed" | "changed";

/** One run of words in a changed paragraph. */
export interface WordPart {
  op: "equal" | "insert" | "delete";
  text: string;
}

/** One paragraph of an article, as it compares. */
export interface ParagraphChange {
  kind: ParagraphKind;
  /** The paragraph in the older text; absent when added. */
  from?: string;
  /** The paragraph in the newer text; absent when removed. */
  to?: string;
  /** The word changes of a `changed` paragraph; absent when the diff was too costly. */
  words?: WordPart[];
}

/** One article (a `##` or `###` section, or the text before the first) as it compares. */
export interface ArticleChange {
  /** The title without its number, normalised: how the two texts' articles are matched. */
  key: string;
  /**
   * The summary: `added`, `removed`, `changed` and `layout` say what happened to
   * the content; otherwise `moved`, `renumbered` or `unchanged`.
   */
  kind: ArticleKind;
  /** The heading in the older and newer text ("" for the text before the first heading). */
  title: { from?: string; to?: string };
  /** The article's number in each text ("Artikel 3"), when it has one. */
  number: { from?: string; to?: string };
  /** Its position among the articles, from 0. */
  position: { from?: number; to?: number };
  /** The article stands elsewhere relative to the articles both texts have. */
  moved: boolean;
  /** The article kept its title but got another number. */
  renumbered: boolean;
  paragraphs: ParagraphChange[];
}

/** The comparison of two agreement texts. */
export interface TextComparison {
  /** True when the two texts are identical after canonicalisation. */
  identical: boolean;
  /** True when a limit was reached and part of the result is coarser than a full diff. */
  coarse: boolean;
  /** Counts of articles per kind. */
  counts: Record<ArticleKind, number>;
  articles: ArticleChange[];
}

/** Bounds on the work of one comparison. */
export interface CompareLimits {
  /** Characters per text beyond which the texts are compared only as a whole. */
  maxTextChars: number;
  /** Articles per text beyond which paragraphs are not diffed in order. */
  maxArticles: number;
  /** The most paragraph edits one article's diff may take. */
  maxParagraphEdits: number;
  /** Characters of a paragraph pair beyond which no word diff is made. */
  maxWordDiffChars: number;
  /** The most word edits one paragraph's diff may take. */
  maxWordEdits: number;
  /** Characters of all word diffs together. */
  wordDiffBudgetChars: number;
  /** Milliseconds of wall-clock time after which remaining work is coarse. */
  deadlineMs: number;
}

/** The default bounds: a few hundred milliseconds for the worst inputs the API accepts. */
export const COMPARE_LIMITS: CompareLimits = {
  maxTextChars: 1_000_000,
  maxArticles: 5_000,
  maxParagraphEdits: 400,
  maxWordDiffChars: 20_000,
  maxWordEdits: 400,
  wordDiffBudgetChars: 600_000,
  deadlineMs: 400,
};

interface Article {
  key: string;
  title: string;
  number?: string;
  paragraphs: string[];
}

const NUMBERED =
  /^(?:(artikel|bijlage|annex|article|hoofdstuk)\s+)?(\d+(?:\.\d+)*[a-z]?|[ivxlc]+)\.?(?:\s*[-–—:.]\s*|\s+)(.+)$/i;

/**
 * Compares two agreement texts article by article (matched by title without
 * number, so a renumbered article is found) and paragraph by paragraph, with
 * word changes inside changed paragraphs. The work is bounded by `limits`:
 * beyond them parts are compared coarsely and `coarse` is set.
 */
export function compareTexts(
  from: string,
  to: string,
  limits: CompareLimits = COMPARE_LIMITS,
): TextComparison {
  const a = canonicalLines(from);
  const b = canonicalLines(to);
  if (a === b) return result(splitArticles(a).map(unchangedArticle), true, false);
  if (a.length > limits.maxTextChars || b.length > limits.maxTextChars) {
    return result([wholeTextChange(a, b)], false, true);
  }
  const budget = new Budget(limits);
  const articles = compareArticles(splitArticles(a), splitArticles(b), budget);
  return result(articles, false, budget.coarse);
}

/** Splits a text into paragraphs separated by blank lines, each with its lines kept. */
export function splitParagraphs(body: string): string[] {
  return body.split(/\n[ \t]*\n/).map((part) => part.replace(/^\n+|\n+$/g, ""))
    .filter((part) => part.trim() !== "");
}

/** The words of a paragraph joined by single spaces: equal for paragraphs that differ only in layout. */
export function wordsOf(paragraph: string): string {
  return paragraph.replace(/\s+/g, " ").trim();
}

/** The key an article is matched by and its number, read from its heading. */
export function articleKey(title: string): { key: string; number?: string } {
  const match = NUMBERED.exec(title.trim());
  const clean = (text: string) => text.normalize("NFC").toLowerCase().replace(/\s+/g, " ").trim();
  if (!match) return { key: clean(title) };
  const word = match[1] ?? "";
  const number = match[2]!;
  const key = clean(`${word} ${match[3]!}`);
  return { key, number: word ? `${capitalise(word)} ${number}` : number };
}

class Budget {
  readonly limits: CompareLimits;
  coarse = false;
  #wordChars = 0;
  readonly #deadline: number;

  constructor(limits: CompareLimits) {
    this.limits = limits;
    this.#deadline = Date.now() + limits.deadlineMs;
  }

  /** Whether time is left; marks the result coarse once it is not. */
  timeLeft(): boolean {
    if (Date.now() <= this.#deadline) return true;
    this.coarse = true;
    return false;
  }

  msLeft(): number {
    return Math.max(1, this.#deadline - Date.now());
  }

  /** Takes characters from the word-diff budget; false (and coarse) when it is spent. */
  takeWordChars(chars: number): boolean {
    if (
      chars > this.limits.maxWordDiffChars ||
      this.#wordChars + chars > this.limits.wordDiffBudgetChars
    ) {
      this.coarse = true;
      return false;
    }
    this.#wordChars += chars;
    return true;
  }
}

// The texts are canonicalised here too because the compare pages may read any stored version.
// Every line is trimmed, so trimEnd removes exactly the final newlines; a regular expression
// like /\n+$/ would take quadratic time on a long run of blank lines.
function canonicalLines(text: string): string {
  return text.replace(/\r\n?/g, "\n").normalize("NFC").split("\n").map((line) => line.trimEnd())
    .join("\n").trimEnd() + "\n";
}

/**
 * The title of a `##` or `###` heading line, without a closing run of `#`;
 * null for any other line. Written without backtracking regular expressions,
 * which take quadratic time on long runs of white space.
 */
export function headingTitle(line: string): string | null {
  if (!line.startsWith("##")) return null;
  const level = line[2] === "#" ? 3 : 2;
  const after = line[level];
  if (after !== " " && after !== "\t") return null;
  let title = line.slice(level).trim();
  let end = title.length;
  while (end > 0 && title[end - 1] === "#") end--;
  if (end < title.length && (end === 0 || title[end - 1] === " " || title[end - 1] === "\t")) {
    title = title.slice(0, end).trimEnd();
  }
  return title === "" ? null : title;
}

function splitArticles(text: string): Article[] {
  const articles: Article[] = [];
  const seen = new Map<string, number>();
  let title = "";
  let lines: string[] = [];
  let inFence = false;
  const flush = () => {
    if (title === "" && lines.every((line) => line.trim() === "")) return;
    const { key, number } = articleKey(title);
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    articles.push({
      key: count === 1 ? key : `${key} (${count})`,
      title,
      ...(number === undefined ? {} : { number }),
      paragraphs: splitParagraphs(lines.join("\n")),
    });
  };
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : headingTitle(line);
    if (heading === null) {
      lines.push(line);
      continue;
    }
    flush();
    title = heading;
    lines = [];
  }
  flush();
  return articles;
}

function compareArticles(older: Article[], newer: Article[], budget: Budget): ArticleChange[] {
  const oldIndex = new Map(older.map((article, index) => [article.key, index]));
  const newKeys = new Set(newer.map((article) => article.key));
  const stay = stayingInPlace(newer.map((article) => oldIndex.get(article.key)));
  const changes: ArticleChange[] = [];
  const inOrder = older.length <= budget.limits.maxArticles &&
    newer.length <= budget.limits.maxArticles;
  if (!inOrder) budget.coarse = true;
  newer.forEach((article, to) => {
    const from = oldIndex.get(article.key);
    if (from === undefined) {
      changes.push(addedArticle(article, to));
      return;
    }
    const previous = older[from]!;
    const paragraphs = sameParagraphs(previous.paragraphs, article.paragraphs)
      ? article.paragraphs.map((text) => ({ kind: "unchanged" as const, from: text, to: text }))
      : compareParagraphs(previous.paragraphs, article.paragraphs, budget, inOrder);
    changes.push(
      matchedArticle(previous, article, { from, to }, paragraphs, !stay.has(from)),
    );
  });
  older.forEach((article, from) => {
    if (!newKeys.has(article.key)) changes.push(removedArticle(article, from));
  });
  return changes;
}

function sameParagraphs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((paragraph, i) => paragraph === b[i]);
}

/**
 * The old positions of the longest run of matched articles that kept their
 * order (a longest increasing subsequence, O(n log n)); the others moved.
 */
function stayingInPlace(positions: Array<number | undefined>): Set<number> {
  const seq = positions.filter((p): p is number => p !== undefined);
  const tails: number[] = [];
  const tailIndex: number[] = [];
  const parent: number[] = new Array(seq.length).fill(-1);
  seq.forEach((value, i) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = value;
    tailIndex[lo] = i;
    parent[i] = lo > 0 ? tailIndex[lo - 1]! : -1;
  });
  const stay = new Set<number>();
  let i = tailIndex[tails.length - 1] ?? -1;
  while (i !== -1) {
    stay.add(seq[i]!);
    i = parent[i]!;
  }
  return stay;
}

function matchedArticle(
  older: Article,
  newer: Article,
  position: { from: number; to: number },
  paragraphs: ParagraphChange[],
  moved: boolean,
): ArticleChange {
  const renumbered = older.number !== newer.number;
  const content = paragraphs.some((p) => p.kind !== "unchanged" && p.kind !== "layout")
    ? "changed"
    : paragraphs.some((p) => p.kind === "layout")
    ? "layout"
    : "unchanged";
  const kind: ArticleKind = content !== "unchanged"
    ? content
    : moved
    ? "moved"
    : renumbered
    ? "renumbered"
    : "unchanged";
  return {
    key: newer.key,
    kind,
    title: { from: older.title, to: newer.title },
    number: numbers(older.number, newer.number),
    position,
    moved,
    renumbered,
    paragraphs,
  };
}

function addedArticle(article: Article, to: number): ArticleChange {
  return {
    key: article.key,
    kind: "added",
    title: { to: article.title },
    number: numbers(undefined, article.number),
    position: { to },
    moved: false,
    renumbered: false,
    paragraphs: article.paragraphs.map((text) => ({ kind: "added", to: text })),
  };
}

function removedArticle(article: Article, from: number): ArticleChange {
  return {
    key: article.key,
    kind: "removed",
    title: { from: article.title },
    number: numbers(article.number, undefined),
    position: { from },
    moved: false,
    renumbered: false,
    paragraphs: article.paragraphs.map((text) => ({ kind: "removed", from: text })),
  };
}

function unchangedArticle(article: Article, index: number): ArticleChange {
  return {
    key: article.key,
    kind: "unchanged",
    title: { from: article.title, to: article.title },
    number: numbers(article.number, article.number),
    position: { from: index, to: index },
    moved: false,
    renumbered: false,
    paragraphs: article.paragraphs.map((text) => ({ kind: "unchanged", from: text, to: text })),
  };
}

function wholeTextChange(from: string, to: string): ArticleChange {
  return {
    key: "",
    kind: "changed",
    title: { from: "", to: "" },
    number: {},
    position: { from: 0, to: 0 },
    moved: false,
    renumbered: false,
    paragraphs: [{ kind: "changed", from, to }],
  };
}

function numbers(from: string | undefined, to: string | undefined): ArticleChange["number"] {
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

function compareParagraphs(
  older: string[],
  newer: string[],
  budget: Budget,
  inOrder: boolean,
): ParagraphChange[] {
  const a = older.map(wordsOf);
  const b = newer.map(wordsOf);
  const runs = inOrder && budget.timeLeft()
    ? diffArrays(a, b, { maxEditLength: budget.limits.maxParagraphEdits, timeout: budget.msLeft() })
    : undefined;
  if (!runs) {
    budget.coarse = true;
    return unorderedParagraphs(older, newer);
  }
  const changes: ParagraphChange[] = [];
  let i = 0;
  let j = 0;
  let removed: string[] = [];
  let added: string[] = [];
  const flush = () => {
    changes.push(...pairChanged(removed, added, budget));
    removed = [];
    added = [];
  };
  for (const run of runs) {
    if (run.removed) {
      removed.push(...older.slice(i, i + run.count));
      i += run.count;
    } else if (run.added) {
      added.push(...newer.slice(j, j + run.count));
      j += run.count;
    } else {
      flush();
      for (let k = 0; k < run.count; k++) changes.push(same(older[i + k]!, newer[j + k]!));
      i += run.count;
      j += run.count;
    }
  }
  flush();
  return changes;
}

function same(from: string, to: string): ParagraphChange {
  return { kind: from === to ? "unchanged" : "layout", from, to };
}

/** Pairs removed and added paragraphs that stand in the same place as changed ones. */
function pairChanged(removed: string[], added: string[], budget: Budget): ParagraphChange[] {
  const changes: ParagraphChange[] = [];
  const pairs = Math.min(removed.length, added.length);
  for (let k = 0; k < pairs; k++) changes.push(changedParagraph(removed[k]!, added[k]!, budget));
  for (const from of removed.slice(pairs)) changes.push({ kind: "removed", from });
  for (const to of added.slice(pairs)) changes.push({ kind: "added", to });
  return changes;
}

function changedParagraph(from: string, to: string, budget: Budget): ParagraphChange {
  const a = wordsOf(from);
  const b = wordsOf(to);
  if (!budget.takeWordChars(a.length + b.length) || !budget.timeLeft()) {
    return { kind: "changed", from, to };
  }
  const parts = diffWordsWithSpace(a, b, {
    maxEditLength: budget.limits.maxWordEdits,
    timeout: budget.msLeft(),
  });
  if (!parts) {
    budget.coarse = true;
    return { kind: "changed", from, to };
  }
  const words: WordPart[] = parts.map((part) => ({
    op: part.added ? "insert" : part.removed ? "delete" : "equal",
    text: part.value,
  }));
  return { kind: "changed", from, to, words };
}

/** The coarse fallback: paragraphs found in both texts are kept, the others removed or added. */
function unorderedParagraphs(older: string[], newer: string[]): ParagraphChange[] {
  const oldWords = new Map<string, string>();
  for (const paragraph of older) oldWords.set(wordsOf(paragraph), paragraph);
  const newWords = new Set(newer.map(wordsOf));
  const changes: ParagraphChange[] = newer.map((to) => {
    const from = oldWords.get(wordsOf(to));
    return from === undefined ? { kind: "added", to } : same(from, to);
  });
  for (const from of older) {
    if (!newWords.has(wordsOf(from))) changes.push({ kind: "removed", from });
  }
  return changes;
}

function result(articles: ArticleChange[], identical: boolean, coarse: boolean): TextComparison {
  const counts: Record<ArticleKind, number> = {
    unchanged: 0,
    added: 0,
    removed: 0,
    moved: 0,
    renumbered: 0,
    changed: 0,
    layout: 0,
  };
  for (const article of articles) counts[article.kind]++;
  return { identical, coarse, counts, articles };
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}
