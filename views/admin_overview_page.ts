import type { VNode } from "preact";
import type { Board } from "../domain/state.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { TableScroll } from "./table_scroll.ts";

/** One board in the administrator's overview, with counts of its agreements. */
export interface AdminOverviewRow {
  board: Board;
  signed: number;
  waiting: number;
  rejected: number;
}

/** Props of {@link AdminOverviewPage}. */
export interface AdminOverviewPageProps {
  rows: AdminOverviewRow[];
  /** The person may register boards and suppliers (the links to the registry's pages). */
  canRegister: boolean;
  user: PageUser;
  csrf: string;
}

/** Every school board with how many of its agreements are signed, waiting or rejected. */
export function AdminOverviewPage(props: AdminOverviewPageProps): VNode {
  return html`
    <${Layout} title="Beheer" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Beheer</p>
      <h1 class="utrecht-heading-1">Alle schoolbesturen</h1>
      ${props.canRegister
        ? html`
          <p class="utrecht-paragraph">
            ${props.rows.length === 0
              ? "Er zijn nog geen schoolbesturen geregistreerd. "
              : ""}<a class="utrecht-link utrecht-link--html-a" href="/admin/besturen">Schoolbesturen
              registreren of bijwerken</a> met de lijst van DUO en de contactadressen.
          </p>
          <p class="utrecht-paragraph">
            <a class="utrecht-link utrecht-link--html-a" href="/admin/leveranciers">Leveranciers
              registreren of bijwerken</a>: één leverancier tegelijk, met KvK-nummer, naam en
            contactadres.
          </p>
        `
        : null}
      <${TableScroll} captionId="alle-besturen-titel">
        <table class="utrecht-table utrecht-table--html-table">
          <caption id="alle-besturen-titel" class="utrecht-table__caption">
            Schoolbesturen en hun verwerkersovereenkomsten
          </caption>
          <thead class="utrecht-table__header">
            <tr class="utrecht-table__row">
              <th scope="col" class="utrecht-table__header-cell">Schoolbestuur</th>
              <th scope="col" class="utrecht-table__header-cell">Ondertekend</th>
              <th scope="col" class="utrecht-table__header-cell">Wachtend</th>
              <th scope="col" class="utrecht-table__header-cell">Afgewezen</th>
            </tr>
          </thead>
          <tbody class="utrecht-table__body">
            ${props.rows.map((row) =>
              html`
                <tr class="utrecht-table__row">
                  <th scope="row" class="utrecht-table__header-cell">
                    <a class="utrecht-link" href=${`/boards/${row.board.id}`}>${row.board.name}</a>
                    <span class="akkoord-muted"> (${row.board.id})</span>
                  </th>
                  <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${row
                    .signed}</td>
                  <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${row
                    .waiting}</td>
                  <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${row
                    .rejected}</td>
                </tr>
              `
            )}
          </tbody>
        </table>
        <//>
        <//>
  `;
}
