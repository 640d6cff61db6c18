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
  /** While the agreement waits on the board: how long, and when it was reminded and escalated. */
  waiting?: { days: number; remindedAt?: string; escalatedAt?: string };
}

/** Props of {@link SupplierOverviewPage}. */
export interface SupplierOverviewPageProps {
  supplier: Supplier;
  rows: SupplierOverviewRow[];
  user: PageUser;
  /** The session's CSRF token, for the logout buttons. */
  csrf: string;
  /** The person may offer versions for this supplier (links to the offer forms). */
  canOffer?: boolean;
}

/**
 * A supplier's agreements with each board and their state, each row at
 * `#bestuur-<board>`; below, the reasons of the current rejections, each at
 * `#afwijzing-<board>` (the supplier's mails link there).
 */
export function SupplierOverviewPage(props: SupplierOverviewPageProps): VNode {
  const rejections = props.rows.flatMap((row) => {
    const rejection = currentRejection(row.status);
    return rejection ? [{ board: row.board, ...rejection }] : [];
  });
  return html`
    <${Layout} title=${`Overzicht ${props.supplier.name}`} user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Leverancier</p>
      <h1 class="utrecht-heading-1">${props.supplier.name}</h1>
      <${SupplierLinks} supplier=${props.supplier.id} canOffer=${props.canOffer === true} />
      ${props.rows.length === 0
        ? html`<p class="utrecht-paragraph">U hebt nog geen verwerkersovereenkomsten aangeboden.</p>`
        : html`<${BoardTable} rows=${props.rows} />`}
      ${rejections.length > 0 ? html`<${Rejections} rejections=${rejections} />` : null}
    <//>
  `;
}

interface Rejection {
  board: Board;
  version: number;
  at: string;
  reason: string;
}

/** The reason the board gave for rejecting its current version, while it stands. */
function currentRejection(status: AgreementStatus): Omit<Rejection, "board"> | null {
  if (status.state !== "rejected") return null;
  const entry = status.history.findLast((item) =>
    item.action === "rejected" && item.version === status.current.version
  );
  if (!entry) return null;
  return { version: entry.version, at: entry.at, reason: entry.reason ?? "" };
}

function Rejections(props: { rejections: Rejection[] }): VNode {
  return html`
    <section aria-labelledby="afwijzingen-titel">
      <h2 class="utrecht-heading-2" id="afwijzingen-titel">Afgewezen versies</h2>
      <p class="utrecht-paragraph">
        Deze besturen wezen de versie af die nu voorligt. Lees hun reden en bied zo nodig een nieuwe
        versie aan.
      </p>
      ${props.rejections.map((rejection) =>
        html`
          <article class="akkoord-rejection" id=${`afwijzing-${rejection.board.id}`}
            aria-labelledby=${`afwijzing-${rejection.board.id}-titel`}>
            <h3 class="utrecht-heading-3" id=${`afwijzing-${rejection.board.id}-titel`}>
              ${rejection.board.name}: versie ${rejection.version} afgewezen op ${formatDate(
                rejection.at,
              )}
            </h3>
            <blockquote class="utrecht-blockquote utrecht-blockquote--html-blockquote">
              ${paragraphsOf(rejection.reason).map((paragraph) =>
                html`<p class="utrecht-paragraph akkoord-prewrap">${paragraph}</p>`
              )}
            </blockquote>
          </article>
        `
      )}
    </section>
  `;
}

/** A reason's paragraphs, parted by blank lines; lines within one stay lines (pre-line). */
function paragraphsOf(reason: string): string[] {
  return reason.split(/\n[ \t]*\n/).map((paragraph) => paragraph.trim()).filter((p) => p !== "");
}

function SupplierLinks(props: { supplier: string; canOffer: boolean }): VNode {
  const base = `/suppliers/${props.supplier}`;
  const link = (href: string, text: string) =>
    html`
      <li class="utrecht-unordered-list__item">
        <a class="utrecht-link utrecht-link--html-a" href=${href}>${text}</a>
      </li>
    `;
  return html`
    <ul class="utrecht-unordered-list">
      ${props.canOffer ? link(`${base}/offer`, "Een versie aanbieden") : null}
      ${props.canOffer
        ? link(`${base}/offer/product`, "Alleen de privacybijsluiter van één product vervangen")
        : null} ${link(`${base}/same-text`, "Welke besturen hebben dezelfde tekst?")}
    </ul>
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
            <th scope="col" class="utrecht-table__header-cell">Wacht sinds</th>
            <th scope="col" class="utrecht-table__header-cell">Herinnerd op</th>
            <th scope="col" class="utrecht-table__header-cell">Geëscaleerd op</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.rows.map(({ board, status, waiting }) =>
            html`
              <tr class="utrecht-table__row" id=${`bestuur-${board.id}`}>
                <th scope="row" class="utrecht-table__header-cell">
                  ${board.name} <span class="akkoord-muted">(${board.id})</span>
                </th>
                <td class="utrecht-table__cell">
                  <${StatusBadge} state=${status.state} />${currentRejection(status)
                    ? html`
                      ${" "}<a class="utrecht-link utrecht-link--html-a"
                        href=${`#afwijzing-${board.id}`}>Lees de reden</a>
                    `
                    : null}
                </td>
                <td class="utrecht-table__cell utrecht-table__cell--numeric-data">${status.current
                  .version}</td>
                <td class="utrecht-table__cell akkoord-nowrap">${formatDate(
                  status.current.offeredAt,
                )}</td>
                <td class="utrecht-table__cell">${inForceText(status) ?? "—"}</td>
                <td class="utrecht-table__cell akkoord-nowrap">${waiting
                  ? waitingDays(waiting.days)
                  : "—"}</td>
                <td class="utrecht-table__cell akkoord-nowrap">${waiting?.remindedAt
                  ? formatDate(waiting.remindedAt)
                  : "—"}</td>
                <td class="utrecht-table__cell akkoord-nowrap">${waiting?.escalatedAt
                  ? formatDate(waiting.escalatedAt)
                  : "—"}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}

function waitingDays(days: number): string {
  return days === 1 ? "1 dag" : `${days} dagen`;
}
