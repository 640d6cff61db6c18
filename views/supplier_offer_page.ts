import type { VNode } from "preact";
import type { ModelComparison } from "../domain/compare_model.ts";
import type { AgreementState } from "../domain/state.ts";
import {
  describedBy,
  DoneNotice,
  ErrorSummary,
  TextArea,
  TextField,
  TextInput,
  WarningNotice,
} from "./form_field.ts";
import { html } from "./html.ts";
import { STATE_LABELS } from "./labels.ts";
import { Layout, type PageUser } from "./layout.ts";
import { ModelDeviationSection } from "./model_deviation_section.ts";
import { TableScroll } from "./table_scroll.ts";

/** A whole new version (`full`), or one product's new privacybijsluiter in the current versions. */
export type OfferMode = "full" | "product";

/** A board one may offer to, with the agreement it has with the supplier now. */
export interface BoardChoice {
  id: string;
  name: string;
  sector: string;
  agreement?: { version: number; state: AgreementState; inForce: boolean };
}

/** What the offer form holds, as typed (or read from uploaded files). */
export interface OfferFormValues {
  title: string;
  text: string;
  /** The privacybijsluiters as JSON: one object or an array. */
  products: string;
  boards: string[];
  /** `current`: every board that has the agreement now; `chosen`: the ticked boards. */
  scope: "chosen" | "current";
  filter: string;
}

/** Props of {@link OfferFormPage}. */
export interface OfferFormPageProps {
  supplier: { id: string; name: string };
  mode: OfferMode;
  values: OfferFormValues;
  /** The boards the filter shows. */
  boards: BoardChoice[];
  /** Ticked boards the filter hides; kept in hidden fields. */
  hiddenChosen: string[];
  boardCount: number;
  /** How many boards have the agreement now. */
  currentCount: number;
  /** Errors by field id: title, text, textFile, products, productFiles, boards. */
  errors: Record<string, string>;
  limits: { textFileBytes: number; productFileBytes: number; bodyBytes: number };
  user: PageUser;
  csrf: string;
}

/** What an offer would do for one board. */
export interface PreviewBoard {
  id: string;
  name: string;
  /**
   * `new`: a first version; `changed`: a new version replacing `since`;
   * `reoffered`: the same content again after a rejection or withdrawal;
   * `identical`: this content already waits or is signed, nothing happens.
   */
  outcome: "new" | "changed" | "reoffered" | "identical";
  version: number;
  since?: number;
  sinceState?: AgreementState;
  /** A short Dutch summary of what changed since `since`. */
  changes?: string;
}

/** One content of a preview and the boards it goes to. */
export interface PreviewGroup {
  oid: string;
  contentSha256: string;
  title: string;
  /** The text as safe HTML from renderMarkdown. */
  textHtml: string;
  products: Array<{ id: string; name: string; version: string }>;
  boards: PreviewBoard[];
  model: ModelComparison;
}

/** Props of {@link OfferPreviewPage}. */
export interface OfferPreviewPageProps {
  supplier: { id: string; name: string };
  mode: OfferMode;
  title: string;
  groups: PreviewGroup[];
  /** The form's values, sent along in hidden fields. */
  carry: Record<string, string | string[]>;
  /** A digest of the preview; the offer is refused when it no longer matches. */
  fingerprint: string;
  notice?: string;
  user: PageUser;
  csrf: string;
}

/** Props of {@link OfferResultPage}. */
export interface OfferResultPageProps {
  supplier: { id: string; name: string };
  rows: Array<
    { board: { id: string; name: string }; outcome: "offered" | "unchanged"; version: number }
  >;
  /** The commits the offer made; none when nothing changed. */
  commits: string[];
  user: PageUser;
  csrf: string;
}

const HEADINGS: Record<OfferMode, string> = {
  full: "Verwerkersovereenkomst aanbieden",
  product: "Nieuwe privacybijsluiter van één product",
};

/**
 * The form in which a supplier offers a version: title, Markdown text,
 * privacybijsluiters and boards (a filterable list, or every board that has
 * the agreement now). Without JavaScript; the filter is a submit button.
 */
export function OfferFormPage(props: OfferFormPageProps): VNode {
  const base = `/suppliers/${props.supplier.id}`;
  return html`
    <${Layout} title=${HEADINGS[props.mode]} user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${props.supplier.name}</p>
      <h1 class="utrecht-heading-1">${HEADINGS[props.mode]}</h1>
      ${props.mode === "full"
        ? html`
          <p class="utrecht-paragraph utrecht-paragraph--lead">
            Bied een versie van uw verwerkersovereenkomst aan een of meer schoolbesturen aan. U ziet
            eerst een voorbeeld: per bestuur wat er gebeurt en waar de tekst afwijkt van het
            sectormodel.
          </p>
          <p class="utrecht-paragraph">
            Verandert alleen de privacybijsluiter van één product?${" "}
            <a class="utrecht-link utrecht-link--html-a" href=${`${base}/offer/product`}>Bied alleen
              die bijsluiter opnieuw aan</a>.
          </p>
        `
        : html`
          <p class="utrecht-paragraph utrecht-paragraph--lead">
            Vervang de privacybijsluiter van één product. De tekst van de overeenkomst en de andere
            bijsluiters blijven zoals in de huidige versie bij elk bestuur; elk bestuur krijgt een
            nieuwe versie om te beoordelen.
          </p>
        `}
      <${ErrorSummary} title="Er is nog niets aangeboden." errors=${props.errors} />
      <form
        method="post"
        action=${`${base}/offer/preview`}
        enctype="multipart/form-data"
        class="utrecht-form akkoord-offer-form"
      >
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <input type="hidden" name="mode" value=${props.mode} />
        ${props.mode === "full" ? html`<${TextFields} ...${props} />` : null}
        <${ProductFields} ...${props} />
        <${BoardFields} ...${props} />
        <button
          type="submit"
          name="step"
          value="preview"
          class="utrecht-button utrecht-button--primary-action"
        >
          Voorbeeld bekijken
        </button>
      </form>
      <//>
  `;
}

function TextFields(props: OfferFormPageProps): VNode {
  const { errors, values } = props;
  return html`
    <${TextField} id="title" label="Titel" error=${errors["title"]}
      description="Bijvoorbeeld: Verwerkersovereenkomst Schoolwijzer 2026.">
      <${TextInput} id="title" maxLength=${200} autocomplete="off" value=${values.title}
        error=${errors["title"]} />
      <//>
      <${TextField} id="text" label="Tekst van de overeenkomst (Markdown)" error=${errors["text"]}
        description="Plak de tekst, met een kopje per artikel (## Artikel 1 Definities). Of kies hieronder een .md-bestand; dat gaat dan voor.">
        <${TextArea} id="text" rows=${14} class="akkoord-code-input" value=${values.text}
          error=${errors["text"]} />
        <//>
        <${TextField} id="textFile" label="Of een Markdown-bestand" error=${errors["textFile"]}
          description=${`Een .md-bestand in UTF-8, hoogstens ${
            sizeText(props.limits.textFileBytes)
          }.`}>
          <${FileInput} id="textFile" accept=".md,.markdown,.txt,text/markdown,text/plain"
            error=${errors["textFile"]} />
          <//>
  `;
}

function ProductFields(props: OfferFormPageProps): VNode {
  const { errors, values } = props;
  const single = props.mode === "product";
  return html`
    <${TextField} id="products" label=${single
      ? "Privacybijsluiter van het product (JSON)"
      : "Privacybijsluiters (JSON)"} error=${errors["products"]}
      description=${single
        ? "Plak de bijsluiter van één product als JSON-object. Het product-id bepaalt welke bijsluiter wordt vervangen."
        : "Plak één bijsluiter als JSON-object, of meer als JSON-lijst. Of kies hieronder bestanden; die komen erbij."}>
      <${TextArea} id="products" rows=${10} spellcheck=${false} class="akkoord-code-input"
        value=${values.products} error=${errors["products"]} />
      <//>
      <${TextField} id="productFiles" label=${single ? "Of een JSON-bestand" : "Of JSON-bestanden"}
        error=${errors["productFiles"]}
        description=${`Elk bestand hoogstens ${sizeText(props.limits.productFileBytes)}.`}>
        <${FileInput} id="productFiles" accept=".json,application/json" multiple=${!single}
          error=${errors["productFiles"]} />
        <//>
  `;
}

/** The upload control of a {@link TextField} with the same id. */
function FileInput(
  props: { id: string; accept: string; multiple?: boolean; error?: string },
): VNode {
  return html`
    <input
      class="akkoord-file-input"
      id=${props.id}
      name=${props.id}
      type="file"
      accept=${props.accept}
      multiple=${props.multiple}
      aria-describedby=${describedBy(props.id, props.error)}
      aria-invalid=${props.error ? "true" : undefined}
    />
  `;
}

function BoardFields(props: OfferFormPageProps): VNode {
  const { errors, values } = props;
  const error = errors["boards"];
  const chosen = new Set(values.boards);
  return html`
    <fieldset
      class=${`utrecht-form-fieldset utrecht-form-fieldset--html-fieldset${
        error ? " utrecht-form-fieldset--invalid" : ""
      }`}
      id="boards"
      aria-describedby=${error ? "boards-error" : undefined}
    >
      <legend class="utrecht-form-fieldset__legend utrecht-form-fieldset__legend--html-legend">
        Schoolbesturen
      </legend>
      ${error
        ? html`
          <div class="utrecht-form-field__error-message utrecht-form-field-error-message"
            id="boards-error">${error}</div>
        `
        : null}
      <${Radio} id="scope-current" value="current" checked=${values.scope === "current"}
        label=${`Elk bestuur dat nu een overeenkomst met u heeft (${props.currentCount})`} />
      <${Radio} id="scope-chosen" value="chosen" checked=${values.scope === "chosen"}
        label="Alleen de besturen die ik hieronder aanvink" />
      <div class="utrecht-form-field utrecht-form-field--text akkoord-filter">
        <div class="utrecht-form-field__label">
          <label class="utrecht-form-label" for="filter">Lijst filteren op naam, nummer of sector</label>
        </div>
        <div class="utrecht-form-field__input akkoord-filter__row">
          <input class="utrecht-textbox utrecht-textbox--html-input" id="filter" name="filter"
            type="search" value=${values.filter} autocomplete="off" />
          <button type="submit" name="step" value="filter" formnovalidate
            class="utrecht-button utrecht-button--secondary-action">Filteren</button>
        </div>
      </div>
      ${props.hiddenChosen.map((id) => html`<input type="hidden" name="boards" value=${id} />`)}
      <p class="utrecht-paragraph akkoord-muted" aria-live="polite">
        ${props.boards.length} van ${props
          .boardCount} besturen getoond${props.hiddenChosen.length > 0
          ? `; ${props.hiddenChosen.length} aangevinkte besturen vallen buiten het filter en blijven gekozen`
          : ""}.
      </p>
      <div class="akkoord-board-list" role="group" aria-label="Besturen" tabindex="0">
        ${props.boards.map((board) =>
          html`<${BoardCheckbox} board=${board} checked=${chosen.has(board.id)} />`
        )}
      </div>
    </fieldset>
  `;
}

function BoardCheckbox(props: { board: BoardChoice; checked: boolean }): VNode {
  const { board } = props;
  const id = `board-${board.id}`;
  return html`
    <div class="utrecht-form-field utrecht-form-field--checkbox akkoord-board-choice">
      <div class="utrecht-form-field__input">
        <input type="checkbox"
          class="utrecht-checkbox utrecht-checkbox--html-input utrecht-checkbox--custom"
          id=${id} name="boards" value=${board.id} checked=${props.checked} />
      </div>
      <div class="utrecht-form-field__label utrecht-form-field__label--checkbox">
        <label class="utrecht-form-label utrecht-form-label--checkbox" for=${id}>
          ${board.name} <span class="akkoord-muted">(${board.id}, ${board.sector})${board.agreement
            ? ` · versie ${board.agreement.version}, ${STATE_LABELS[board.agreement.state]}`
            : ""}</span>
        </label>
      </div>
    </div>
  `;
}

function Radio(props: { id: string; value: string; checked: boolean; label: string }): VNode {
  return html`
    <div class="utrecht-form-field utrecht-form-field--radio">
      <div class="utrecht-form-field__input">
        <input type="radio" class="utrecht-radio-button utrecht-radio-button--html-input"
          id=${props.id} name="scope" value=${props.value} checked=${props.checked} />
      </div>
      <div class="utrecht-form-field__label">
        <label class="utrecht-form-label utrecht-form-label--radio" for=${props.id}>${props
          .label}</label>
      </div>
    </div>
  `;
}

/**
 * What an offer would do, before it is made: per board a new version, a
 * change since version N, or nothing (identical content); the text as it
 * will read; and its deviations from the sector model.
 */
export function OfferPreviewPage(props: OfferPreviewPageProps): VNode {
  const base = `/suppliers/${props.supplier.id}`;
  const boards = props.groups.flatMap((group) => group.boards);
  const effective = boards.filter((board) => board.outcome !== "identical").length;
  const voided = boards.filter(voidsApproval);
  return html`
    <${Layout} title="Voorbeeld van uw aanbod" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${props.supplier.name}</p>
      <h1 class="utrecht-heading-1">Voorbeeld van uw aanbod</h1>
      <${WarningNotice} message=${props.notice} />
      <p class="utrecht-paragraph utrecht-paragraph--lead">${leadText(effective, boards.length)}</p>
      ${voided.length > 0
        ? html`
          <div class="utrecht-alert utrecht-alert--warning akkoord-alert">
            <div class="utrecht-alert__content">
              <div class="utrecht-alert__message">
                <p class="utrecht-paragraph">${voidedText(voided)}</p>
              </div>
            </div>
          </div>
        `
        : null}
      ${props.groups.map((group, index) =>
        html`<${PreviewGroupSection} group=${group} index=${index} count=${props.groups.length} />`
      )}
      <form method="post" action=${`${base}/offer`} enctype="multipart/form-data"
        class="utrecht-form akkoord-decision">
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <input type="hidden" name="mode" value=${props.mode} />
        <input type="hidden" name="fingerprint" value=${props.fingerprint} />
        ${Object.entries(props.carry).flatMap(([name, value]) =>
          (Array.isArray(value) ? value : [value]).map((item) =>
            html`<input type="hidden" name=${name} value=${item} />`
          )
        )}
        <div class="utrecht-button-group utrecht-button-group--row">
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Aanbieden
          </button>
          <button type="submit" name="step" value="edit" formaction=${`${base}/offer/preview`}
            class="utrecht-button utrecht-button--secondary-action">
            Terug naar het formulier
          </button>
        </div>
      </form>
      <//>
  `;
}

function PreviewGroupSection(props: { group: PreviewGroup; index: number; count: number }): VNode {
  const { group } = props;
  const id = `inhoud-${props.index + 1}`;
  return html`
    <section aria-labelledby=${id} class="akkoord-preview-group">
      <h2 class="utrecht-heading-2" id=${id}>
        ${props.count > 1 ? `Inhoud ${props.index + 1}: ` : ""}${group.title}
      </h2>
      <p class="utrecht-paragraph akkoord-muted">
        Inhoud <code class="utrecht-code akkoord-hash">${group.oid}</code>, SHA-256${" "}
        <code class="utrecht-code akkoord-hash">${group.contentSha256}</code>
      </p>
      <${PreviewBoardTable} boards=${group.boards} id=${`${id}-besturen`} />
      <p class="utrecht-paragraph">
        Privacybijsluiters: ${group.products.map((p) => `${p.name} (versie ${p.version})`).join(
          ", ",
        )}.
      </p>
      <${ModelDeviationSection} model=${group.model} level=${3} idPrefix=${`${id}-model`} />
      <details class="akkoord-details">
        <summary>Tekst zoals het bestuur hem zal lezen</summary>
        <article class="utrecht-html akkoord-agreement-text"
          dangerouslySetInnerHTML=${{ __html: group.textHtml }}></article>
      </details>
    </section>
  `;
}

function PreviewBoardTable(props: { boards: PreviewBoard[]; id: string }): VNode {
  return html`
    <${TableScroll} captionId=${props.id}>
      <table class="utrecht-table utrecht-table--html-table">
        <caption class="utrecht-table__caption akkoord-caption-small" id=${props.id}>
          Wat er per bestuur gebeurt
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Schoolbestuur</th>
            <th scope="col" class="utrecht-table__header-cell">Gevolg</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.boards.map((board) =>
            html`
              <tr class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">
                  ${board.name} <span class="akkoord-muted">(${board.id})</span>
                </th>
                <td class="utrecht-table__cell">${outcomeText(board)}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}

function outcomeText(board: PreviewBoard): string {
  switch (board.outcome) {
    case "new":
      return "Nieuw: versie 1 wordt aangeboden.";
    case "identical":
      return `Gelijk aan versie ${board.version}, die al voorligt of ondertekend is: er verandert niets.`;
    case "reoffered":
      return `Dezelfde inhoud als versie ${board.since} (${
        STATE_LABELS[board.sinceState ?? "rejected"]
      }) wordt opnieuw aangeboden als versie ${board.version}.`;
    case "changed":
      return `Gewijzigd sinds versie ${board.since}: wordt versie ${board.version}${
        board.changes ? ` (${board.changes})` : ""
      }.${voidsApproval(board) ? ` De goedkeuring van versie ${board.since} vervalt.` : ""}`;
  }
}

/** A new version voids the approval the board gave the version it replaces. */
function voidsApproval(board: PreviewBoard): boolean {
  return board.outcome === "changed" && board.sinceState === "approved";
}

function leadText(effective: number, total: number): string {
  if (effective === 0) {
    return "Alle gekozen besturen hebben deze inhoud al. Aanbieden verandert niets.";
  }
  const count = effective === total
    ? (total === 1 ? "Het gekozen bestuur krijgt" : `Alle ${total} gekozen besturen krijgen`)
    : `${effective} van de ${total} gekozen besturen ${effective === 1 ? "krijgt" : "krijgen"}`;
  return `${count} een nieuwe versie. Er is nog niets aangeboden.`;
}

function voidedText(boards: PreviewBoard[]): string {
  const names = boards.map((board) => `${board.name} (versie ${board.since})`).join(", ");
  return boards.length === 1
    ? `Let op: ${names} heeft de huidige versie al goedgekeurd. Die goedkeuring vervalt als u aanbiedt; het bestuur moet de nieuwe versie opnieuw beoordelen.`
    : `Let op: ${boards.length} besturen hebben hun huidige versie al goedgekeurd: ${names}. Die goedkeuringen vervallen als u aanbiedt; de besturen moeten de nieuwe versie opnieuw beoordelen.`;
}

/** What an offer did per board, with the commits it made. */
export function OfferResultPage(props: OfferResultPageProps): VNode {
  const offered = props.rows.filter((row) => row.outcome === "offered").length;
  const base = `/suppliers/${props.supplier.id}`;
  return html`
    <${Layout} title="Aanbod verwerkt" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${props.supplier.name}</p>
      <h1 class="utrecht-heading-1">Aanbod verwerkt</h1>
      <${DoneNotice} message=${offered === 0
        ? "Er is niets veranderd: alle gekozen besturen hadden deze inhoud al."
        : `${offered} ${
          offered === 1 ? "bestuur kreeg" : "besturen kregen"
        } een nieuwe versie om te beoordelen.`} />
      <${TableScroll} captionId="resultaat-titel">
        <table class="utrecht-table utrecht-table--html-table">
          <caption class="utrecht-table__caption" id="resultaat-titel">Per schoolbestuur</caption>
          <thead class="utrecht-table__header">
            <tr class="utrecht-table__row">
              <th scope="col" class="utrecht-table__header-cell">Schoolbestuur</th>
              <th scope="col" class="utrecht-table__header-cell">Wat er gebeurde</th>
            </tr>
          </thead>
          <tbody class="utrecht-table__body">
            ${props.rows.map((row) =>
              html`
                <tr class="utrecht-table__row">
                  <th scope="row" class="utrecht-table__header-cell">
                    ${row.board.name} <span class="akkoord-muted">(${row.board.id})</span>
                  </th>
                  <td class="utrecht-table__cell">${row.outcome === "offered"
                    ? `Versie ${row.version} aangeboden`
                    : `Niets veranderd: versie ${row.version} had deze inhoud al`}</td>
                </tr>
              `
            )}
          </tbody>
        </table>
        <//>
      ${props.commits.length > 0
        ? html`
          <p class="utrecht-paragraph akkoord-muted">
            Vastgelegd in de geschiedenis als commit${props.commits.length > 1 ? "s" : ""}${" "}
            ${props.commits.map((oid) =>
              html`
                <code class="utrecht-code akkoord-hash">${oid}</code>
              `
            )}
          </p>
        `
        : null}
      <ul class="utrecht-unordered-list">
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link utrecht-link--html-a" href=${base}>Naar uw overzicht</a>
        </li>
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link utrecht-link--html-a" href=${`${base}/same-text`}>
            Welke besturen hebben dezelfde tekst?
          </a>
        </li>
      </ul>
      <//>
  `;
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} kB`;
}
