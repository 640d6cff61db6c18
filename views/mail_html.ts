import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { MailContent, MailSection } from "../domain/mail.ts";
import { html } from "./html.ts";

const STYLE = "font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #1a1a1a";

/**
 * The HTML part of a mail: the greeting, each section with its heading,
 * paragraphs, quote and link, and the sign-off. Every value is escaped; a link is
 * only made of an http(s) address.
 */
export function mailHtml(content: MailContent, subject: string): string {
  return "<!doctype html>" + renderToString(html`
    <html lang="nl">
      <head>
        <meta charset="utf-8" />
        <title>${subject}</title>
      </head>
      <body style=${STYLE}>
        <p>${content.greeting}</p>
        ${content.sections.map((section) => html`<${Section} section=${section} />`)}
        <p>Met vriendelijke groet,<br />Akkoord</p>
      </body>
    </html>
  `);
}

const QUOTE_STYLE = "margin: 0 0 16px 0; padding-left: 12px; border-left: 4px solid #b0b0b0";

function Section(props: { section: MailSection }): VNode {
  const { heading, paragraphs, quote, link } = props.section;
  return html`
    <div>
      ${heading ? html`<h2 style="font-size: 18px">${heading}</h2>` : null}
      ${paragraphs.map((paragraph) => html`<p>${paragraph}</p>`)}
      ${quote && quote.length > 0 ? html`<${Quote} paragraphs=${quote} />` : null}
      ${link && /^https?:\/\//.test(link)
        ? html`<p><a href=${link}>${
          props.section.linkText ?? "Bekijk de overeenkomst in Akkoord"
        }</a></p>`
        : null}
    </div>
  `;
}

/** Someone's own words, paragraph by paragraph and line by line. */
function Quote(props: { paragraphs: string[][] }): VNode {
  return html`
    <blockquote style=${QUOTE_STYLE}>
      ${props.paragraphs.map((lines) =>
        html`<p>${lines.flatMap((line, i) => i === 0 ? [line] : [html`<br />`, line])}</p>`
      )}
    </blockquote>
  `;
}
