import type { VNode } from "preact";
import type { AgreementStatus, Board, Supplier } from "../domain/state.ts";
import { agreementPath } from "./agreement_paths.ts";
import { ErrorSummary } from "./form_field.ts";
import { formatDate } from "./format.ts";
import { html } from "./html.ts";
import { TableScroll } from "./table_scroll.ts";
import { type WaitingFor, waitingLabel } from "./labels.ts";
import { Layout, type PageUser } from "./layout.ts";
import { StatusBadge } from "./status_badge.ts";
import { inForceText } from "./version_facts.ts";

/** One supplier's agreement in a board's overview. */
export interface BoardOverviewRow {
  supplier: Supplier;
  status: AgreementStatus;
  waitingFor: WaitingFor;
}

/** Props of {@link BoardOverviewPage}. */
export interface BoardOverviewPageProps {
  board: Board;
  rows: BoardOverviewRow[];
  /** The logged-in person may accept the terms of use for the board. */
  canAcceptTerms: boolean;
  /** The version of the terms of use in force, posted back on acceptance. */
  termsVersion: string;
  /** Errors of the terms form by field name (`accept`), after a refused submission. */
  errors?: Record<string, string>;
  csrf: string;
  user: PageUser;
  /** The logged-in person may invite a supplier and keep a notification address for the board. */
  canInvite?: boolean;
}

/**
 * A board's one overview of the agreements offered to it and signed by it,
 * per supplier, preceded by the terms of use while the board has not
 * accepted them.
 */
export function BoardOverviewPage(props: BoardOverviewPageProps): VNode {
  return html`
    <${Layout} title=${`Overzicht ${props.board.name}`} user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Schoolbestuur ${props.board.id}</p>
      <h1 class="utrecht-heading-1">${props.board.name}</h1>
      <${ErrorSummary} title="De gebruiksvoorwaarden zijn niet aanvaard." errors=${props.errors} />
      ${props.board.termsAccepted
        ? html`<${TermsAccepted} accepted=${props.board.termsAccepted} />`
        : html`<${TermsNotice} ...${props} />`}
      <${Summary} rows=${props.rows} />
      ${props.canInvite ? html`<${BoardLinks} board=${props.board} />` : null}
      ${props.rows.length === 0
        ? html`
          <p
            class="utrecht-paragraph">Er zijn nog geen verwerkersovereenkomsten aan uw bestuur aangeboden.</p>
        `
        : html`<${OverviewTable} board=${props.board} rows=${props.rows} />`}
    <//>
  `;
}

function TermsAccepted(props: { accepted: NonNullable<Board["termsAccepted"]> }): VNode {
  const { accepted } = props;
  return html`
    <p class="utrecht-paragraph utrecht-paragraph--small akkoord-muted">
      Gebruiksvoorwaarden (versie ${accepted.version}) aanvaard op ${formatDate(accepted.at)} door
      ${" "}${accepted.actor.name}.
    </p>
  `;
}

function TermsNotice(props: BoardOverviewPageProps): VNode {
  return html`
    <section class="utrecht-alert utrecht-alert--warning akkoord-alert"
      aria-labelledby="voorwaarden-titel">
      <div class="utrecht-alert__content">
        <div class="utrecht-alert__message">
          <h2 class="utrecht-heading-3" id="voorwaarden-titel">Gebruiksvoorwaarden nog niet aanvaard</h2>
          <p class="utrecht-paragraph">
            Uw bestuur kan pas overeenkomsten beoordelen en ondertekenen als het de
            gebruiksvoorwaarden van Akkoord (versie ${props.termsVersion}) heeft aanvaard. Daarna
            ontvangt het contactadres van uw bestuur een e-mail zodra een overeenkomst op
            beoordeling of ondertekening wacht.
          </p>
          ${props.canAcceptTerms ? html`<${TermsForm} ...${props} />` : html`
            <p class="utrecht-paragraph">
              Iemand met een eHerkenningsmachtiging om namens ${props.board.name} te beoordelen
              of te ondertekenen moet de gebruiksvoorwaarden aanvaarden.
            </p>
          `}
        </div>
      </div>
    </section>
  `;
}

function TermsForm(props: BoardOverviewPageProps): VNode {
  const error = props.errors?.accept;
  return html`
    <form method="post" action=${`/boards/${
      encodeURIComponent(props.board.id)
    }/terms`} class="utrecht-form">
      <input type="hidden" name="_csrf" value=${props.csrf} />
      <input type="hidden" name="termsVersion" value=${props.termsVersion} />
      <div class=${`utrecht-form-field utrecht-form-field--checkbox${
        error ? " utrecht-form-field--invalid" : ""
      }`}>
        ${error
          ? html`
            <div class="utrecht-form-field__error-message utrecht-form-field-error-message" id="accept-error">
              ${error}
            </div>
          `
          : null}
        <div class="utrecht-form-field__input">
          <input
            type="checkbox"
            class="utrecht-checkbox utrecht-checkbox--html-input utrecht-checkbox--custom"
            id="accept"
            name="accept"
            value="ja"
            required
            aria-describedby=${error ? "accept-error" : undefined}
            aria-invalid=${error ? "true" : undefined}
          />
        </div>
        <div class="utrecht-form-field__label utrecht-form-field__label--checkbox">
          <label class="utrecht-form-label utrecht-form-label--checkbox" for="accept">
            Ik aanvaard de gebruiksvoorwaarden namens ${props.board.name}
          </label>
        </div>
      </div>
      <button type="submit" class="utrecht-button utrecht-button--primary-action">
        Gebruiksvoorwaarden aanvaarden
      </button>
    </form>
  `;
}

function BoardLinks(props: { board: Board }): VNode {
  const base = `/boards/${encodeURIComponent(props.board.id)}`;
  return html`
    <p class="utrecht-paragraph">
      <a class="utrecht-link utrecht-link--html-a" href=${`${base}/invite`}>Leverancier uitnodigen</a>
      ${" · "}
      <a class="utrecht-link utrecht-link--html-a" href=${`${base}/notifications`}>Mijn meldingen</a>
    </p>
  `;
}

function Summary(props: { rows: BoardOverviewRow[] }): VNode {
  const signed = props.rows.filter((r) => r.status.inForce !== undefined).length;
  const waiting =
    props.rows.filter((r) => r.waitingFor === "beoordelaar" || r.waitingFor === "ondertekenaar")
      .length;
  const rejected = props.rows.filter((r) => r.status.state === "rejected").length;
  return html`
    <section aria-labelledby="samenvatting-titel" class="akkoord-summary-section">
      <h2 class="utrecht-heading-2 akkoord-visually-hidden" id="samenvatting-titel">Samenvatting</h2>
      <ul class="akkoord-summary">
        <li class="akkoord-summary__item"><strong>${signed}</strong> ondertekend</li>
        <li class="akkoord-summary__item"><strong>${waiting}</strong> wachtend</li>
        <li class="akkoord-summary__item"><strong>${rejected}</strong> afgewezen</li>
      </ul>
    </section>
  `;
}

function OverviewTable(props: { board: Board; rows: BoardOverviewRow[] }): VNode {
  return html`
    <${TableScroll} captionId="overzicht-titel">
      <table class="utrecht-table utrecht-table--html-table">
        <caption id="overzicht-titel"
          class="utrecht-table__caption">Verwerkersovereenkomsten per leverancier</caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Leverancier</th>
            <th scope="col" class="utrecht-table__header-cell">Status</th>
            <th scope="col" class="utrecht-table__header-cell">Versie</th>
            <th scope="col" class="utrecht-table__header-cell">Aangeboden op</th>
            <th scope="col" class="utrecht-table__header-cell">Actie</th>
            <th scope="col" class="utrecht-table__header-cell">Van kracht</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.rows.map((row) => html`<${OverviewRow} board=${props.board} row=${row} />`)}
        </tbody>
      </table>
      <//>
  `;
}

function OverviewRow(props: { board: Board; row: BoardOverviewRow }): VNode {
  const { supplier, status, waitingFor } = props.row;
  return html`
    <tr class="utrecht-table__row">
      <th scope="row" class="utrecht-table__header-cell">
        <a class="utrecht-link utrecht-link--html-a" href=${agreementPath(
          props.board.id,
          supplier.id,
        )}>
          ${supplier.name}
        </a>
      </th>
      <td class="utrecht-table__cell">
        <${StatusBadge} state=${status.state} />
      </td>
      <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${status.current
        .version}</td>
      <td class="utrecht-table__cell akkoord-nowrap">${formatDate(status.current.offeredAt)}</td>
      <td class="utrecht-table__cell">${waitingLabel(waitingFor)}</td>
      <td class="utrecht-table__cell">${inForceText(status) ?? "—"}</td>
    </tr>
  `;
}
