import MarkdownIt from "markdown-it";

/** Options for {@link renderMarkdown}. */
export interface MarkdownOptions {
  /**
   * The heading level the text's highest heading becomes. The agreement page
   * shows the text below its own h1 and h2, hence 3.
   */
  headingBase?: number;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const ALLOWED_SCHEMES = new Set(["http", "https", "mailto"]);

const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });
const defaultValidateLink = markdown.validateLink.bind(markdown);

markdown.validateLink = function validateLink(url: string): boolean {
  if (!defaultValidateLink(url)) return false;
  const scheme = SCHEME.exec(url.trim())?.[1];
  return scheme === undefined || ALLOWED_SCHEMES.has(scheme.toLowerCase());
};

markdown.renderer.rules.link_open = function linkOpen(tokens, index, options, _env, self) {
  tokens[index]?.attrSet("rel", "noopener noreferrer");
  return self.renderToken(tokens, index, options);
};

/**
 * Renders untrusted Markdown (an agreement text) to safe HTML. Raw HTML in the
 * source is escaped, never rendered; links and images may only point to
 * http:, https:, mailto: or relative addresses. Heading levels are shifted
 * so that the text's highest heading becomes `headingBase` and no level is
 * skipped, which keeps the page's outline valid.
 */
export function renderMarkdown(source: string, options: MarkdownOptions = {}): string {
  const env = {};
  const tokens = markdown.parse(source, env);
  shiftHeadings(tokens, options.headingBase ?? 3);
  labelTableHeaders(tokens);
  return markdown.renderer.render(tokens, markdown.options, env);
}

type Tokens = ReturnType<typeof markdown.parse>;

function shiftHeadings(tokens: Tokens, base: number): void {
  const levelOf = (tag: string) => Number(tag.slice(1));
  const headings = tokens.filter((t) => t.type === "heading_open");
  const highest = Math.min(...headings.map((t) => levelOf(t.tag)));
  let previous = base - 1;
  let current = base;
  for (const token of tokens) {
    if (token.type === "heading_open") {
      const wanted = base + levelOf(token.tag) - highest;
      current = Math.min(wanted, previous + 1, 6);
      previous = current;
    }
    if (token.type === "heading_open" || token.type === "heading_close") {
      token.tag = `h${current}`;
    }
  }
}

// A header cell without text is announced as an empty header, so it becomes a
// data cell; the others name the column they head.
function labelTableHeaders(tokens: Tokens): void {
  tokens.forEach((token, index) => {
    if (token.type !== "th_open") return;
    const content = tokens[index + 1];
    const close = tokens[index + 2];
    if (content?.type === "inline" && content.content.trim() === "" && close?.type === "th_close") {
      token.tag = "td";
      close.tag = "td";
    } else {
      token.attrSet("scope", "col");
    }
  });
}
