import {
  GDPR_28_3_OBLIGATIONS,
  MODEL_ARTICLES,
  MODEL_NAME,
  type ModelArticle,
  normaliseForCues,
  type Obligation,
  type ObligationPoint,
} from "./model_structure.ts";

/** How a supplier's article was tied to the model: by its heading, by its content, or not. */
export type ArticleMatch = "title" | "body" | "none";

/** One article (or annex) of the supplier's text and the model articles it corresponds to. */
export interface MappedArticle {
  /** The heading as the supplier wrote it. */
  title: string;
  /** The ids of the model articles it corresponds to (see {@link MODEL_ARTICLES}). */
  model: string[];
  match: ArticleMatch;
}

/**
 * Where the text's structure departs from the model: an article whose
 * heading does not name the model's subject although its content does
 * (`renamed`), one article covering several model articles (`merged`), or
 * one model article spread over several articles (`split`).
 */
export type DeviationKind = "renamed" | "merged" | "split";

/** A model article as the comparison names it. */
export interface ModelArticleRef {
  id: string;
  title: string;
  annex: boolean;
}

/** One structural deviation from the model. */
export interface ModelDeviation {
  kind: DeviationKind;
  /** The supplier's headings involved. */
  articles: string[];
  model: ModelArticleRef[];
}

/**
 * Where the text mentions one obligation of GDPR art. 28(3): the articles
 * that contain its cue words. A pointer for the reviewer, not a judgement:
 * an article that says the opposite of the obligation mentions it too.
 */
export interface ObligationCoverage {
  point: ObligationPoint;
  summary: string;
  /**
   * Some article contains the obligation's cue words (the name is kept for
   * the API's sake; it does not mean the text meets the obligation).
   */
  covered: boolean;
  /** The headings of the articles that mention it ("" for a text without headings). */
  foundIn: string[];
}

/** A supplier's agreement text held against the model's structure and GDPR art. 28(3). */
export interface ModelComparison {
  model: string;
  articles: MappedArticle[];
  /** Model articles no article of the text corresponds to. */
  missing: ModelArticleRef[];
  deviations: ModelDeviation[];
  /** Headings of articles that correspond to no model article. */
  extra: string[];
  obligations: ObligationCoverage[];
  /** The points of art. 28(3) no article mentions (no article has their cue words). */
  uncovered: ObligationPoint[];
}

/** Options of {@link compareModel}. */
export interface CompareModelOptions {
  /**
   * The version carries structured privacybijsluiters, which stand in for
   * the model's privacybijsluiter annex when the text has none.
   */
  hasProducts?: boolean;
}

/** What kind of heading an article has, read from its first word. */
type HeadingKind = "article" | "annex" | "plain";

interface Section {
  title: string;
  kind: HeadingKind;
  /** The heading without number or "Artikel"/"Bijlage", normalised for cues. */
  name: string;
  /** Heading and body, normalised for cues. */
  content: string;
}

interface Candidate {
  article: ModelArticle;
  start: number;
  end: number;
}

/** The fewest different body cues that tie an article to a model article by content. */
const MIN_BODY_CUES = 2;

const PREFIX = /^(artikel|article|art\.|bijlage|annex|appendix|hoofdstuk)\s*/;
const NUMBER_AFTER_PREFIX = /^(?:\d+(?:\.\d+)*[a-z]?|[ivxlc]+)(?![a-z])\s*[.:)\u2013\u2014-]?\s*/;
const BARE_NUMBER = /^\d+(?:\.\d+)*[a-z]?[.):]?\s+/;
const HEADING = /^(#{1,6})[ \t]+(.*)$/;

/**
 * Holds an agreement text against the model's structure: maps each article
 * to model articles by its heading (or, failing that, by its content), and
 * lists missing and extra articles, renamed, merged and split ones, and the
 * obligations of GDPR art. 28(3) that no article mentions. Deviations are
 * reported, not judged: the model allows them with reasons.
 */
export function compareModel(text: string, options: CompareModelOptions = {}): ModelComparison {
  const sections = articlesOf(text);
  const byTitle = sections.map((section) => titleMatches(section));
  const takenByTitle = new Set(byTitle.flat().map((article) => article.id));
  const byBody = bodyMatches(sections, byTitle, takenByTitle);
  const articles: MappedArticle[] = sections.map((section, index) => {
    const title = byTitle[index]!;
    const body = byBody.get(index);
    if (title.length > 0) return mapped(section, title, "title");
    if (body) return mapped(section, [body], "body");
    return mapped(section, [], "none");
  });
  const present = new Set(articles.flatMap((article) => article.model));
  return {
    model: MODEL_NAME,
    articles,
    missing: MODEL_ARTICLES
      .filter((article) => !present.has(article.id))
      .filter((article) => !(options.hasProducts && article.id === "bijlage-privacybijsluiter"))
      .map(ref),
    deviations: deviationsOf(articles),
    extra: articles.filter((article) => article.match === "none").map((article) => article.title),
    ...coverage(sections, text),
  };
}

/** The obligations of art. 28(3) with the articles that mention each. */
function coverage(
  sections: Section[],
  text: string,
): Pick<ModelComparison, "obligations" | "uncovered"> {
  const units = sections.length > 0
    ? sections
    : [{ title: "", kind: "plain" as const, name: "", content: normaliseForCues(text) }];
  const obligations = GDPR_28_3_OBLIGATIONS.map((obligation) => {
    const foundIn = units.filter((unit) => covers(unit.content, obligation)).map((u) => u.title);
    return {
      point: obligation.point,
      summary: obligation.summary,
      covered: foundIn.length > 0,
      foundIn,
    };
  });
  return {
    obligations,
    uncovered: obligations.filter((o) => !o.covered).map((o) => o.point),
  };
}

function covers(content: string, obligation: Obligation): boolean {
  return obligation.cues.every((group) => group.some((cue) => content.includes(cue)));
}

function mapped(section: Section, model: ModelArticle[], match: ArticleMatch): MappedArticle {
  return { title: section.title, model: model.map((article) => article.id), match };
}

function ref(article: ModelArticle): ModelArticleRef {
  return { id: article.id, title: article.title, annex: article.annex === true };
}

function deviationsOf(articles: MappedArticle[]): ModelDeviation[] {
  const model = new Map(MODEL_ARTICLES.map((article) => [article.id, article]));
  const refs = (ids: string[]) => ids.map((id) => ref(model.get(id)!));
  const deviations: ModelDeviation[] = [];
  for (const article of articles) {
    if (article.match === "body") {
      deviations.push({ kind: "renamed", articles: [article.title], model: refs(article.model) });
    }
    if (article.match === "title" && article.model.length > 1) {
      deviations.push({ kind: "merged", articles: [article.title], model: refs(article.model) });
    }
  }
  for (const id of model.keys()) {
    const holders = articles.filter((a) => a.match === "title" && a.model.includes(id));
    if (holders.length > 1) {
      deviations.push({ kind: "split", articles: holders.map((a) => a.title), model: refs([id]) });
    }
  }
  return deviations;
}

/**
 * The model articles a heading names. A cue found inside a longer cue's
 * match gives way to it ("beveiliging" inside "beveiligingsbijlage"); a
 * heading without "Artikel" or "Bijlage" names an article before an annex.
 */
function titleMatches(section: Section): ModelArticle[] {
  const candidates: Candidate[] = [];
  for (const article of MODEL_ARTICLES) {
    if (section.kind === "annex" && !article.annex) continue;
    if (section.kind === "article" && article.annex) continue;
    const span = longestCue(section.name, article.titleCues);
    if (span) candidates.push({ article, ...span });
  }
  const kept = candidates.filter((c) =>
    !candidates.some((d) =>
      d !== c && d.start <= c.start && c.end <= d.end && d.end - d.start > c.end - c.start
    )
  );
  const articles = kept.filter((c) => !c.article.annex);
  return (articles.length > 0 ? articles : kept).map((c) => c.article);
}

function longestCue(name: string, cues: readonly string[]): { start: number; end: number } | null {
  let best: { start: number; end: number } | null = null;
  for (const cue of cues) {
    const anchored = cue.startsWith("^");
    const word = anchored ? cue.slice(1) : cue;
    const start = anchored ? (name.startsWith(word) ? 0 : -1) : name.indexOf(word);
    if (start === -1) continue;
    if (!best || word.length > best.end - best.start) best = { start, end: start + word.length };
  }
  return best;
}

/**
 * Ties articles whose heading names nothing in the model to a model article
 * that no heading named, by the cues their content has: at least
 * {@link MIN_BODY_CUES} different ones, the most winning, each model article once.
 */
function bodyMatches(
  sections: Section[],
  byTitle: ModelArticle[][],
  taken: Set<string>,
): Map<number, ModelArticle> {
  const matches = new Map<number, ModelArticle>();
  const used = new Set(taken);
  sections.forEach((section, index) => {
    if (byTitle[index]!.length > 0) return;
    let best: { article: ModelArticle; score: number } | null = null;
    for (const article of MODEL_ARTICLES) {
      if (used.has(article.id)) continue;
      if (section.kind === "annex" && !article.annex) continue;
      if (section.kind === "article" && article.annex) continue;
      const score = article.bodyCues.filter((cue) => section.content.includes(cue)).length;
      if (score >= MIN_BODY_CUES && (!best || score > best.score)) best = { article, score };
    }
    if (best) {
      matches.set(index, best.article);
      used.add(best.article.id);
    }
  });
  return matches;
}

/**
 * The articles of a Markdown text: the headings of the highest level that
 * occurs more than once (so a single `#` title is not an article), each with
 * everything up to the next heading of that level or higher. Text before the
 * first article is left out; fenced code is not read for headings.
 */
function articlesOf(text: string): Section[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const headings = headingLines(lines);
  const level = articleLevel(headings.map((heading) => heading.level));
  if (level === null) return [];
  const starts = headings.filter((heading) => heading.level <= level);
  const sections: Section[] = [];
  starts.forEach((heading, i) => {
    if (heading.level < level) return;
    const end = starts[i + 1]?.line ?? lines.length;
    const body = lines.slice(heading.line + 1, end).join("\n");
    const { kind, name } = headingName(heading.title);
    sections.push({
      title: heading.title,
      kind,
      name,
      content: normaliseForCues(`${heading.title}\n${body}`),
    });
  });
  return sections;
}

function headingLines(lines: string[]): Array<{ line: number; level: number; title: string }> {
  const headings: Array<{ line: number; level: number; title: string }> = [];
  let inFence = false;
  lines.forEach((line, index) => {
    if (/^\s{0,3}(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) return;
    const match = HEADING.exec(line);
    if (!match) return;
    const title = stripClosingHashes(match[2]!.trim());
    if (title !== "") headings.push({ line: index, level: match[1]!.length, title });
  });
  return headings;
}

function stripClosingHashes(title: string): string {
  let end = title.length;
  while (end > 0 && title[end - 1] === "#") end--;
  if (end === title.length) return title;
  if (end === 0) return "";
  return title[end - 1] === " " || title[end - 1] === "\t" ? title.slice(0, end).trimEnd() : title;
}

function articleLevel(levels: number[]): number | null {
  if (levels.length === 0) return null;
  const counts = new Map<number, number>();
  for (const level of levels) counts.set(level, (counts.get(level) ?? 0) + 1);
  const repeated = [...counts].filter(([, count]) => count > 1).map(([level]) => level);
  return repeated.length > 0 ? Math.min(...repeated) : Math.min(...levels);
}

function headingName(title: string): { kind: HeadingKind; name: string } {
  let name = normaliseForCues(title);
  const prefix = PREFIX.exec(name);
  if (prefix) {
    name = name.slice(prefix[0].length).replace(NUMBER_AFTER_PREFIX, "");
    const kind = /^(bijlage|annex|appendix)/.test(prefix[1]!) ? "annex" : "article";
    return { kind, name: name.trim() };
  }
  return { kind: "plain", name: name.replace(BARE_NUMBER, "").trim() };
}
