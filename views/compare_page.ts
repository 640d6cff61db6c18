import type { VNode } from "preact";
import type { FieldChange, ProductComparison, Risk } from "../domain/compare_products.ts";
import type {
  ArticleChange,
  ArticleKind,
  ParagraphChange,
  WordPart,
} from "../domain/compare_text.ts";
import type { VersionComparison } from "../domain/compare_versions.ts";
import type { ModelComparison } from "../domain/compare_model.ts";
import { formatCountry } from "./format.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { ModelDeviationSection } from "./model_deviation_section.ts";
import { TableScroll } from "./table_scroll.ts";

/** Props of {@link ComparePage}. */
export interface ComparePageProps {
  /** "Verwerkersovereenkomst van <board> met <supplier>". */
  heading: string;
  comparison: VersionComparison | null;
  /** The versions one may choose from, oldest first. */
  versions: number[];
  /** Where the choice form is sent (GET), and hidden fields it keeps. */
  formAction: string;
  hidden?: Record<string, string>;
  /** The value of the two choices, as typed (a version number or a commit oid). */
  chosen: { from: string; to: string };
  /** Said instead of a comparison, for example when there is one version only. */
  notice?: string;
  /** The newer version held against the sector model. */
  model?: ModelComparison;
  backHref: string;
  user: PageUser;
  csrf: string;
}

/** The most changed articles one page shows, so that a huge comparison stays a usable page. */
const MAX_SHOWN_ARTICLES = 300;

const KIND_LABELS: Record<ArticleKind, string> = {
  unchanged: "ongewijzigd",
  added: "toegevoegd",
  removed: "verwijderd",
  moved: "verplaatst",
  renumbered: "hernummerd",
  changed: "gewijzigd",
  layout: "alleen opmaak",
};

const RISK_LABELS: Record<Risk, string> = {
  outside_eea: "subverwerker buiten de EER",
  moved_outside_eea: "gaat naar buiten de EER",
  special_category: "bijzonder persoonsgegeven",
  national_identifier: "nationaal identificatienummer",
};

const FIELD_LABELS: Record<FieldChange["field"], string> = {
  product: "Product",
  subProcessor: "Subverwerker",
  dataCategory: "Persoonsgegeven",
  retention: "Bewaartermijn",
  purpose: "Doel",
  dataSubject: "Betrokkenen",
  storageLocation: "Opslaglocatie",
  security: "Beveiliging",
  contact: "Contact",
  document: "Bijsluiter",
};

const ATTRIBUTE_LABELS: Record<string, string> = {
  name: "naam",
  version: "versie",
  description: "omschrijving",
  storageLocation: "opslaglocatie",
  annexReference: "beveiligingsbijlage",
  privacyContact: "privacycontact",
  breachContact: "contact bij datalekken",
  documentVersion: "versie van de bijsluiter",
  documentDate: "datum van de bijsluiter",
  service: "dienst",
  country: "land",
  transferSafeguard: "waarborg bij doorgifte",
  insideEea: "binnen de EER",
  retention: "bewaartermijn",
  special: "bijzonder persoonsgegeven",
  nationalIdentifier: "nationaal identificatienummer",
};

const CHANGE_LABELS: Record<FieldChange["change"], string> = {
  added: "toegevoegd",
  removed: "verwijderd",
  changed: "gewijzigd",
};

/**
 * Two versions of an agreement side by side: what changed per article, the
 * word changes inside changed paragraphs, and the privacybijsluiters compared
 * field by field with risky changes marked in words, not colour only.
 */
export function ComparePage(props: ComparePageProps): VNode {
  const comparison = props.comparison;
  return html`
    <${Layout} title="Versies vergelijken" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${props.heading}</p>
      <h1 class="utrecht-heading-1">Versies vergelijken</h1>
      <${ChoiceForm} ...${props} />
      ${props.notice ? html`<p class="utrecht-paragraph">${props.notice}</p>` : null}
      ${comparison ? html`<${ComparisonBody} comparison=${comparison} />` : null}
      ${props.model ? html`<${ModelDeviationSection} model=${props.model} />` : null}
      <p class="utrecht-paragraph">
        <a class="utrecht-link utrecht-link--html-a" href=${props
          .backHref}>Terug naar de overeenkomst</a>
      </p>
      <//>
  `;
}

function ChoiceForm(props: ComparePageProps): VNode {
  return html`
    <form method="get" action=${props.formAction} class="utrecht-form akkoord-compare-form">
      ${Object.entries(props.hidden ?? {}).map(([name, value]) =>
        html`<input type="hidden" name=${name} value=${value} />`
      )}
      <${VersionInput} id="from" label="Oudere versie" value=${props.chosen.from} versions=${props
        .versions} />
      <${VersionInput} id="to" label="Nieuwere versie" value=${props.chosen.to} versions=${props
        .versions} />
      <button type="submit" class="utrecht-button utrecht-button--secondary-action">Vergelijken</button>
    </form>
  `;
}

function VersionInput(
  props: { id: string; label: string; value: string; versions: number[] },
): VNode {
  return html`
    <div class="utrecht-form-field utrecht-form-field--text">
      <div class="utrecht-form-field__label">
        <label class="utrecht-form-label" for=${props.id}>${props.label}</label>
      </div>
      <div class="utrecht-form-field__input">
        <input
          class="utrecht-textbox utrecht-textbox--html-input"
          id=${props.id}
          name=${props.id}
          value=${props.value}
          list=${`${props.id}-versies`}
          autocomplete="off"
        />
        <datalist id=${`${props.id}-versies`}>
          ${props.versions.map((version) => html`<option value=${String(version)}></option>`)}
        </datalist>
      </div>
    </div>
  `;
}

function ComparisonBody(props: { comparison: VersionComparison }): VNode {
  const { comparison } = props;
  const { text } = comparison;
  const allChanged = text.articles.filter((article) => article.kind !== "unchanged");
  const changed = allChanged.slice(0, MAX_SHOWN_ARTICLES);
  const hidden = allChanged.length - changed.length;
  return html`
    <section aria-labelledby="samenvatting-titel">
      <h2 class="utrecht-heading-2" id="samenvatting-titel">
        Versie ${comparison.from.version} vergeleken met versie ${comparison.to.version}
      </h2>
      ${text.identical
        ? html`<p class="utrecht-paragraph">De tekst van beide versies is gelijk.</p>`
        : html`<p class="utrecht-paragraph">${summaryLine(comparison)}</p>`}
      ${text.coarse
        ? html`
          <p class="utrecht-paragraph">
            <strong>Grove vergelijking:</strong> de teksten zijn zo groot of zo verschillend dat niet
            elke woordwijziging is uitgezocht. Gewijzigde alinea's staan dan in hun geheel als oud en
            nieuw.
          </p>
        `
        : null} ${changed.length > 0 ? html`<${ArticleTable} articles=${changed} />` : null}
    </section>
    ${changed.length > 0
      ? html`
        <section aria-labelledby="wijzigingen-titel">
          <h2 class="utrecht-heading-2" id="wijzigingen-titel">Wijzigingen per artikel</h2>
          ${changed.map((article) => html`<${ArticleDetail} article=${article} />`)}
          ${hidden > 0
            ? html`
              <p class="utrecht-paragraph">
                Nog ${hidden} artikelen veranderden; die staan niet op deze pagina. Vergelijk versies
                die dichter bij elkaar liggen.
              </p>
            `
            : null}
        </section>
      `
      : null}
    <section aria-labelledby="bijsluiters-vergelijking-titel">
      <h2 class="utrecht-heading-2" id="bijsluiters-vergelijking-titel">Privacybijsluiters</h2>
      ${comparison.risky
        ? html`
          <p class="utrecht-paragraph">
            <strong>Let op:</strong> de privacybijsluiters hebben wijzigingen met een risico; die zijn
            hieronder met "Let op" gemarkeerd.
          </p>
        `
        : null} ${comparison.products.map((product) =>
          html`<${ProductDetail} product=${product} />`
        )}
    </section>
  `;
}

function summaryLine(comparison: VersionComparison): string {
  const counts = comparison.text.counts;
  const parts = (Object.keys(KIND_LABELS) as ArticleKind[])
    .filter((kind) => kind !== "unchanged" && counts[kind] > 0)
    .map((kind) => `${counts[kind]} ${KIND_LABELS[kind]}`);
  const changes = parts.length > 0 ? parts.join(", ") : "geen inhoudelijke wijzigingen";
  return `Artikelen: ${changes}; ${counts.unchanged} ongewijzigd.`;
}

function ArticleTable(props: { articles: ArticleChange[] }): VNode {
  return html`
    <${TableScroll} captionId="artikelen-caption">
      <table class="utrecht-table utrecht-table--html-table">
        <caption class="utrecht-table__caption akkoord-caption-small" id="artikelen-caption">
          Artikelen die veranderden
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Artikel</th>
            <th scope="col" class="utrecht-table__header-cell">Wat er veranderde</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.articles.map((article) =>
            html`
              <tr class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">${articleTitle(article)}</th>
                <td class="utrecht-table__cell">${articleSummary(article)}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}

function articleTitle(article: ArticleChange): string {
  return (article.title.to ?? article.title.from ?? "") || "Tekst voor het eerste artikel";
}

function articleSummary(article: ArticleChange): string {
  const parts = [KIND_LABELS[article.kind]];
  if (article.moved && article.kind !== "moved") parts.push("verplaatst");
  if (article.renumbered && article.kind !== "renumbered") parts.push("hernummerd");
  if (article.renumbered) {
    parts.push(
      `was ${article.number.from ?? "zonder nummer"}, nu ${article.number.to ?? "zonder nummer"}`,
    );
  }
  return parts.join("; ");
}

function ArticleDetail(props: { article: ArticleChange }): VNode {
  const { article } = props;
  const shown = article.paragraphs.filter((paragraph) => paragraph.kind !== "unchanged");
  const same = article.paragraphs.length - shown.length;
  return html`
    <section class="akkoord-compare-article">
      <h3 class="utrecht-heading-3">${articleTitle(article)}</h3>
      <p class="utrecht-paragraph akkoord-muted">${articleSummary(article)}${same > 0
        ? ` — ${same} ongewijzigde alinea${same === 1 ? "" : "'s"} niet getoond`
        : ""}</p>
      ${shown.map((paragraph) => html`<${ParagraphDetail} paragraph=${paragraph} />`)}
    </section>
  `;
}

function ParagraphDetail(props: { paragraph: ParagraphChange }): VNode {
  const p = props.paragraph;
  switch (p.kind) {
    case "added":
      return html`
        <p class="utrecht-paragraph akkoord-prewrap">
          <${Inserted} text=${p.to ?? ""} />
        </p>
      `;
    case "removed":
      return html`
        <p class="utrecht-paragraph akkoord-prewrap">
          <${Deleted} text=${p.from ?? ""} />
        </p>
      `;
    case "layout":
      return html`
        <p class="utrecht-paragraph akkoord-prewrap">
          <span class="akkoord-muted">Alleen opmaak gewijzigd (witruimte of regeleinden): </span>${p
            .to}
        </p>
      `;
    case "unchanged":
      return html`<p class="utrecht-paragraph akkoord-prewrap">${p.to}</p>`;
    case "changed":
      return p.words
        ? html`<p class="utrecht-paragraph">${
          p.words.map((part) => html`<${Word} part=${part} />`)
        }</p>`
        : html`
          <p class="utrecht-paragraph akkoord-prewrap">
            <${Deleted} text=${p.from ?? ""} />
          </p>
          <p class="utrecht-paragraph akkoord-prewrap">
            <${Inserted} text=${p.to ?? ""} />
          </p>
        `;
  }
}

function Word(props: { part: WordPart }): VNode {
  const { part } = props;
  if (part.op === "insert") return html`<${Inserted} text=${part.text} />`;
  if (part.op === "delete") return html`<${Deleted} text=${part.text} />`;
  return html`<span>${part.text}</span>`;
}

function Inserted(props: { text: string }): VNode {
  return html`<ins><span class="akkoord-visually-hidden">[toegevoegd: </span>${props.text}<span class="akkoord-visually-hidden">]</span></ins>`;
}

function Deleted(props: { text: string }): VNode {
  return html`<del><span class="akkoord-visually-hidden">[verwijderd: </span>${props.text}<span class="akkoord-visually-hidden">]</span></del>`;
}

function ProductDetail(props: { product: ProductComparison }): VNode {
  const { product } = props;
  const kind = product.kind === "unchanged"
    ? "ongewijzigd"
    : product.kind === "added"
    ? "nieuw product"
    : product.kind === "removed"
    ? "product vervallen"
    : "gewijzigd";
  return html`
    <section class="akkoord-annex">
      <h3 class="utrecht-heading-3">${product
        .name} <span class="akkoord-muted">(${kind})</span></h3>
      ${product.changes.length === 0 ? null : html`
        <ul class="utrecht-unordered-list">
          ${product.changes.map((change) => html`<${ChangeItem} change=${change} />`)}
        </ul>
      `}
    </section>
  `;
}

function ChangeItem(props: { change: FieldChange }): VNode {
  const { change } = props;
  const attribute = change.attribute
    ? ` (${ATTRIBUTE_LABELS[change.attribute] ?? change.attribute})`
    : "";
  const subject = change.field === "product" || change.field === "storageLocation" ||
      change.field === "document" || change.field === "contact" ||
      (change.field === "security" && change.change === "changed")
    ? ATTRIBUTE_LABELS[change.subject] ?? change.subject
    : change.subject;
  return html`
    <li class="utrecht-unordered-list__item">
      ${change.risk ? html`<strong>Let op (${RISK_LABELS[change.risk]}):${" "}</strong>` : null}
      ${FIELD_LABELS[change.field]} ${CHANGE_LABELS[change.change]}${change.field ===
          "storageLocation"
        ? ""
        : `: ${subject}${attribute}`}
      ${change.from !== undefined && change.change === "changed"
        ? html`
          , van <${Deleted} text=${shownValue(change, change.from)} /> naar <${Inserted}
            text=${shownValue(change, change.to ?? "")}
          />
        `
        : change.to !== undefined && change.to !== change.subject
        ? `: ${shownValue(change, change.to)}`
        : ""}
    </li>
  `;
}

function shownValue(change: FieldChange, value: string): string {
  if (value === "true") return "ja";
  if (value === "false") return "nee";
  if (change.attribute === "country") return formatCountry(value);
  return value === "" ? "leeg" : value;
}
