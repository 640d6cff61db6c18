import type { VNode } from "preact";
import { REASON_MAX_LENGTH } from "../domain/decide_on_agreement.ts";
import type { ModelComparison } from "../domain/compare_model.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { AgreementStatus, Board, Supplier } from "../domain/state.ts";
import { agreementPath } from "./agreement_paths.ts";
import { ErrorSummary, TextArea, TextField } from "./form_field.ts";
import { HistoryTable } from "./history_table.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { ModelDeviationSection } from "./model_deviation_section.ts";
import { PrivacybijsluiterSection } from "./privacybijsluiter_section.ts";
import { StatusBadge } from "./status_badge.ts";
import { VersionFacts } from "./version_facts.ts";
import { VersionFields } from "./version_fields.ts";

/** The decisions the logged-in person may take on the current version. */
export interface AgreementActions {
  approve: boolean;
  reject: boolean;
  sign: boolean;
}

/** Props of {@link AgreementPage}. */
export interface AgreementPageProps {
  board: Board;
  supplier: Supplier;
  status: AgreementStatus;
  /** The agreement text as safe HTML from {@link renderMarkdown}. */
  agreementHtml: string;
  products: Privacybijsluiter[];
  actions: AgreementActions;
  csrf: string;
  user: PageUser;
  /** Form errors by field name, for example `reason`. */
  errors?: Record<string, string>;
  /** Values to put back into the form after an error, for example `reason`. */
  values?: Record<string, string>;
  /** The version the current one is best compared with, or null when there is none. */
  compareWith?: number | null;
  /** The current version held against the sector model; shown to the board's people. */
  model?: ModelComparison;
}

/**
 * One agreement between a board and a supplier: its current version, the
 * decisions the person may take, the text, each product's privacybijsluiter
 * and the history.
 */
export function AgreementPage(props: AgreementPageProps): VNode {
  const { board, supplier, status } = props;
  return html`
    <${Layout} title=${`Overeenkomst met ${supplier.name}`} user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Verwerkersovereenkomst van ${board.name}</p>
      <h1 class="utrecht-heading-1 akkoord-title">
        ${supplier.name} <${StatusBadge} state=${status.state} />
      </h1>
      <${ErrorSummary} title="Het formulier is niet verstuurd." errors=${props.errors} />
      <${VersionFacts} status=${status} />
      <${PdfLinks} board=${board} supplier=${supplier} status=${status} />
      ${props.compareWith
        ? html`
          <p class="utrecht-paragraph">
            <a class="utrecht-link utrecht-link--html-a" href=${`${
              agreementPath(board.id, supplier.id, "compare")
            }?from=${props.compareWith}&to=${status.current.version}`}>Vergelijk met versie ${props
              .compareWith}</a>
          </p>
        `
        : null}
      <${Decisions} ...${props} />
      ${props.model ? html`<${ModelDeviationSection} model=${props.model} />` : null}
      <section aria-labelledby="tekst-titel">
        <h2 class="utrecht-heading-2" id="tekst-titel">Tekst van de overeenkomst</h2>
        <article
          class="utrecht-html akkoord-agreement-text"
          aria-labelledby="tekst-titel"
          dangerouslySetInnerHTML=${{ __html: props.agreementHtml }}
        ></article>
      </section>
      <section aria-labelledby="bijsluiters-titel">
        <h2 class="utrecht-heading-2" id="bijsluiters-titel">Privacybijsluiters</h2>
        ${props.products.length === 0
          ? html`<p class="utrecht-paragraph">Bij deze versie horen geen privacybijsluiters.</p>`
          : props.products.map((annex) => html`<${PrivacybijsluiterSection} annex=${annex} />`)}
      </section>
      <section aria-labelledby="geschiedenis-titel">
        <h2 class="utrecht-heading-2" id="geschiedenis-titel">Geschiedenis</h2>
        <${HistoryTable} history=${status.history} />
      </section>
      <p class="utrecht-paragraph">
        <a class="utrecht-link utrecht-link--html-a" href="/">Terug naar het overzicht</a>
      </p>
      <//>
  `;
}

/** Downloads of the current version and, when older, the version in force. */
function PdfLinks(props: { board: Board; supplier: Supplier; status: AgreementStatus }): VNode {
  const { current, inForce } = props.status;
  const href = (version: number) =>
    agreementPath(props.board.id, props.supplier.id, `versions/${version}.pdf`);
  return html`
    <ul class="utrecht-unordered-list">
      <li class="utrecht-unordered-list__item">
        <a class="utrecht-link utrecht-link--html-a" href=${href(current.version)} download>
          Versie ${current.version} downloaden als PDF, met bewijs</a>
      </li>
      ${inForce && inForce.version !== current.version
        ? html`
          <li class="utrecht-unordered-list__item">
            <a class="utrecht-link utrecht-link--html-a" href=${href(inForce.version)} download>
              Ondertekende versie ${inForce.version} downloaden als PDF</a>
          </li>
        `
        : null}
    </ul>
  `;
}

function Decisions(props: AgreementPageProps): VNode | null {
  const { approve, reject, sign } = props.actions;
  if (!approve && !reject && !sign) return null;
  const version = props.status.current.version;
  return html`
    <section aria-labelledby="beslissen-titel" class="akkoord-decisions">
      <h2 class="utrecht-heading-2" id="beslissen-titel">Uw beslissing over versie ${version}</h2>
      ${approve ? html`<${ApproveForm} ...${props} />` : null}
      ${sign ? html`<${SignLink} ...${props} />` : null}
      ${reject ? html`<${RejectForm} ...${props} />` : null}
    </section>
  `;
}

function ApproveForm(props: AgreementPageProps): VNode {
  return html`
    <form method="post" action=${agreementPath(
      props.board.id,
      props.supplier.id,
      "approve",
    )} class="utrecht-form akkoord-decision">
      <${VersionFields} csrf=${props.csrf} version=${props.status.current} />
      <p class="utrecht-paragraph">
        Keur deze versie goed als zij inhoudelijk klopt. Daarna kan de tekeningsbevoegde haar ondertekenen.
      </p>
      <button type="submit" class="utrecht-button utrecht-button--primary-action">Goedkeuren</button>
    </form>
  `;
}

function SignLink(props: AgreementPageProps): VNode {
  return html`
    <div class="akkoord-decision">
      <p class="utrecht-paragraph">
        Deze versie is goedgekeurd. U kunt haar namens ${props.board
          .name} ondertekenen; u bevestigt dat op de volgende pagina.
      </p>
      <a
        class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action"
        href=${agreementPath(props.board.id, props.supplier.id, "sign")}
      >Ondertekenen</a>
    </div>
  `;
}

function RejectForm(props: AgreementPageProps): VNode {
  const error = props.errors?.reason;
  return html`
    <form method="post" action=${agreementPath(
      props.board.id,
      props.supplier.id,
      "reject",
    )} class="utrecht-form akkoord-decision">
      <${VersionFields} csrf=${props.csrf} version=${props.status.current} />
      <${TextField}
        id="reason"
        label="Reden van afwijzing"
        description=${`De leverancier ziet deze reden en kan een nieuwe versie aanbieden. Hoogstens ${REASON_MAX_LENGTH} tekens.`}
        error=${error}
      >
        <${TextArea}
          id="reason"
          rows=${4}
          maxLength=${REASON_MAX_LENGTH}
          required
          value=${props.values?.reason ?? ""}
          error=${error}
        />
        </${TextField}>
        <button type="submit" class="utrecht-button utrecht-button--secondary-action">Afwijzen</button>
        </form>
  `;
}
