import type { VNode } from "preact";
import type { HistoryEntry } from "../domain/state.ts";
import { formatDateTime } from "./format.ts";
import { html } from "./html.ts";
import { TableScroll } from "./table_scroll.ts";
import { ACTION_LABELS, ROLE_LABELS } from "./labels.ts";

/** The story of one agreement, newest first. */
export function HistoryTable(props: { history: HistoryEntry[] }): VNode {
  const entries = [...props.history].reverse();
  return html`
    <${TableScroll} captionId="geschiedenis-tabel">
      <table class="utrecht-table utrecht-table--html-table">
        <caption id="geschiedenis-tabel"
          class="utrecht-table__caption akkoord-caption-small">Alle stappen, nieuwste eerst</caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Datum</th>
            <th scope="col" class="utrecht-table__header-cell">Handeling</th>
            <th scope="col" class="utrecht-table__header-cell">Versie</th>
            <th scope="col" class="utrecht-table__header-cell">Door</th>
            <th scope="col" class="utrecht-table__header-cell">Reden</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${entries.map((entry) => html`<${HistoryRow} entry=${entry} />`)}
        </tbody>
      </table>
      <//>
  `;
}

function HistoryRow(props: { entry: HistoryEntry }): VNode {
  const entry = props.entry;
  return html`
    <tr class="utrecht-table__row">
      <td class="utrecht-table__cell akkoord-nowrap">${formatDateTime(entry.at)}</td>
      <th scope="row" class="utrecht-table__header-cell">${ACTION_LABELS[entry.action]}</th>
      <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${entry.version}</td>
      <td class="utrecht-table__cell">${entry.actor.name} (${ROLE_LABELS[entry.actor.role]})</td>
      <td class="utrecht-table__cell akkoord-prewrap">${entry.reason ?? "—"}</td>
    </tr>
  `;
}
