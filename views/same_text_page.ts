import type { VNode } from "preact";
import type { SameTextGroup, SameTextOverview } from "../domain/same_text.ts";
import { html } from "./html.ts";
import { STATE_LABELS } from "./labels.ts";
import { Layout, type PageUser } from "./layout.ts";
import { TableScroll } from "./table_scroll.ts";

/** Props of {@link SameTextPage}. */
export interface SameTextPageProps {
  supplier: { id: string; name: string };
  overview: SameTextOverview;
  user: PageUser;
  csrf: string;
}

/**
 * Which boards got exactly the same text of a supplier's agreement, grouped
 * by the Git blob oid of the text, and which got a different one. The page
 * speaks of "precies dezelfde tekst"; the oids are technical details.
 */
export function SameTextPage(props: SameTextPageProps): VNode {
  const { overview } = props;
  return html`
    <${Layout} title=${`Dezelfde tekst — ${props.supplier.name}`} user=${props.user} csrf=${props
      .csrf}>
      <p class="akkoord-pre-heading">${props.supplier.name}</p>
      <h1 class="utrecht-heading-1">Welke besturen hebben dezelfde tekst?</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        ${leadText(overview)}
      </p>
      <p class="utrecht-paragraph akkoord-muted">
        Gelijk betekent hier: precies dezelfde tekst van de huidige versie, letter voor letter en
        teken voor teken. Binnen een groep kunnen de titel of de privacybijsluiters nog verschillen;
        dan staat per bestuur bij welke versie het hoort.
      </p>
      ${overview.groups.map((group, index) =>
        html`<${GroupSection} group=${group} index=${index} supplier=${props.supplier.id} />`
      )}
      <p class="utrecht-paragraph">
        <a class="utrecht-link utrecht-link--html-a" href=${`/suppliers/${props.supplier.id}`}>
          Terug naar het overzicht
        </a>
      </p>
      <//>
  `;
}

function leadText(overview: SameTextOverview): string {
  if (overview.boardCount === 0) return "Deze leverancier heeft nog geen overeenkomst aangeboden.";
  if (overview.boardCount === 1) return "Eén bestuur heeft een overeenkomst met deze leverancier.";
  if (overview.groups.length === 1) {
    return `Alle ${overview.boardCount} besturen hebben precies dezelfde tekst.`;
  }
  return `${overview.boardCount} besturen, ${overview.groups.length} verschillende teksten.`;
}

function GroupSection(props: { group: SameTextGroup; index: number; supplier: string }): VNode {
  const { group } = props;
  const id = `tekst-${props.index + 1}`;
  const count = group.boards.length;
  return html`
    <section aria-labelledby=${id} class="akkoord-same-text">
      <h2 class="utrecht-heading-2" id=${id}>
        Tekst ${props.index + 1}: ${count} ${count === 1 ? "bestuur" : "besturen"}
      </h2>
      ${group.versions.length > 1
        ? html`
          <p class="utrecht-paragraph">
            Precies dezelfde tekst, in ${group.versions
              .length} versies met een andere titel of andere
            privacybijsluiters.
          </p>
        `
        : null}
      <details class="akkoord-details">
        <summary>Technische gegevens</summary>
        <p class="utrecht-paragraph akkoord-muted">
          Kenmerk van de tekst in de geschiedenis (Git-oid):${" "}
          <code class="utrecht-code akkoord-hash">${group.textOid}</code>
        </p>
      </details>
      <${TableScroll} captionId=${`${id}-tabel`}>
        <table class="utrecht-table utrecht-table--html-table">
          <caption class="utrecht-table__caption akkoord-caption-small" id=${`${id}-tabel`}>
            Besturen met tekst ${props.index + 1}
          </caption>
          <thead class="utrecht-table__header">
            <tr class="utrecht-table__row">
              <th scope="col" class="utrecht-table__header-cell">Schoolbestuur</th>
              <th scope="col" class="utrecht-table__header-cell">Versie</th>
              <th scope="col" class="utrecht-table__header-cell">Status</th>
              <th scope="col" class="utrecht-table__header-cell">Inhoud (titel, tekst en bijsluiters)</th>
            </tr>
          </thead>
          <tbody class="utrecht-table__body">
            ${group.boards.map((board) =>
              html`
                <tr class="utrecht-table__row">
                  <th scope="row" class="utrecht-table__header-cell">
                    ${board.name} <span class="akkoord-muted">(${board.id})</span>
                  </th>
                  <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${board
                    .version}</td>
                  <td class="utrecht-table__cell">${STATE_LABELS[board.state]}</td>
                  <td class="utrecht-table__cell">
                    ${contentLabel(group, board.id)}${" "}
                    <span class="akkoord-muted">(kenmerk <code class="utrecht-code akkoord-hash">${treeOf(
                      group,
                      board.id,
                    ).slice(0, 12)}</code>)</span>
                  </td>
                </tr>
              `
            )}
          </tbody>
        </table>
        <//>
        </section>
  `;
}

/** "Inhoud A", "Inhoud B", ...: which whole version of the group a board has. */
function contentLabel(group: SameTextGroup, board: string): string {
  const index = group.versions.findIndex((version) => version.boards.includes(board));
  if (group.versions.length === 1) return "Voor alle besturen gelijk";
  return `Inhoud ${String.fromCharCode(65 + Math.max(0, index) % 26)}`;
}

function treeOf(group: SameTextGroup, board: string): string {
  return group.versions.find((version) => version.boards.includes(board))?.oid ?? "";
}
