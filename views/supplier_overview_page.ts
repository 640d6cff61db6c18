import type { VNode } from "preact";
import type { AgreementStatus, Board, Supplier } from "../domain/state.ts";
import { formatDate } from "./format.ts";
import { html } from "./html.ts";
import { TableScroll } from "./table_scroll.ts";
import { Layout, type PageUser } from "./layout.ts";
import { StatusBadge } from "./status_badge.ts";
import { inForceText } from "./version_facts.ts";

/** One board's agreement in a supplier's overview. */
export interface SupplierOverviewRow {
  board: Board;
  status: AgreementStatus;
}

/** Props of {@link SupplierOverviewPage}. */
export interface SupplierOverviewPageProps {
  supplier: Supplier;
  rows: SupplierOverviewRow[];
  user: PageUser;
  /** The session's CSRF token, for the logout button. */
  csrf?: string;
}

/** A supplier's agreements with each board and their state. */
export function SupplierOverviewPage(props: SupplierOverviewPageProps): VNode {
  return html`
    <${Layout} title=${`Overzicht ${props.supplier.name}`} user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Leverancier</p>
      <h1 class="utrecht-heading-1">${props.supplier.name}</h1>
      ${props.rows.length === 0
        ? html`<p class="utrecht-paragraph">U hebt nog geen verwerkersovereenkomsten aangeboden.</p>`
        : html`<${BoardTable} rows=${props.rows} />`}
    <//>
  `;
}

function BoardTable(props: { rows: SupplierOverviewRow[] }): VNode {
  return html`
    <${TableScroll} captionId="besturen-titel">
      <table class="utrecht-table utrecht-table--html-table">
        <caption id="besturen-titel"
          class="utrecht-table__caption">Verwerkersovereenkomsten per schoolbestuur</caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Schoolbestuur</th>
            <th scope="col" class="utrecht-table__header-cell">Status</th>
            <th scope="col" class="utrecht-table__header-cell">Versie</th>
            <th scope="col" class="utrecht-table__header-cell">Aangeboden op</th>
            <th scope="col" class="utrecht-table__header-cell">Van kracht</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.rows.map(({ board, status }) =>
            html`
              <tr class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">
                  ${board.name} <span class="akkoord-muted">(${board.id})</span>
                </th>
                <td class="utrecht-table__cell">
                  <${StatusBadge} state=${status.state} />
                </td>
                <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${status.current
                  .version}</td>
                <td class="utrecht-table__cell akkoord-nowrap">${formatDate(
                  status.current.offeredAt,
                )}</td>
                <td class="utrecht-table__cell">${inForceText(status) ?? "—"}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}
