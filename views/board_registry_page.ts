import type { VNode } from "preact";
import {
  describedBy,
  DoneNotice,
  ErrorSummary,
  TextArea,
  TextField,
  WarningNotice,
} from "./form_field.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { TableScroll } from "./table_scroll.ts";

const PATH = "/admin/besturen";
const HEADER = "bevoegd_gezag,kvk,naam,sector,contact_email";

/** Props of {@link BoardRegistryFormPage}. */
export interface BoardRegistryFormPageProps {
  /** The CSV as pasted or uploaded, shown again. */
  csv: string;
  /** Form errors by field id: `csv`, `csvFile`. */
  errors: Record<string, string>;
  /** What is wrong per row, in Dutch, such as "Rij 7: ...". */
  rowProblems: string[];
  /** Row problems left out of {@link rowProblems}. */
  moreProblems: number;
  /** How many boards the registry holds now. */
  registered: number;
  limits: { body: string; rows: number };
  user: PageUser;
  csrf: string;
}

/** One board the file changes, and what changes. */
export interface BoardChangeRow {
  id: string;
  /** The name as registered now. */
  name: string;
  changes: Array<{ label: string; before: string; after: string }>;
}

/** Props of {@link BoardRegistryPreviewPage}. */
export interface BoardRegistryPreviewPageProps {
  counts: { added: number; changed: number; unchanged: number; untouched: number };
  changes: BoardChangeRow[];
  /** The CSV, carried to the next step. */
  csv: string;
  /** A digest of the file and the registry it was checked against. */
  fingerprint: string;
  /** Why the preview is shown again instead of registering. */
  notice?: string;
  user: PageUser;
  csrf: string;
}

/** Props of {@link BoardRegistryResultPage}. */
export interface BoardRegistryResultPageProps {
  added: number;
  changed: number;
  unchanged: number;
  /** The commit that registered them; null when nothing changed. */
  commit: string | null;
  user: PageUser;
  csrf: string;
}

/**
 * The administrator's form to register school boards: DUO's list of boards
 * with each board's contact address, pasted or uploaded as CSV.
 */
export function BoardRegistryFormPage(props: BoardRegistryFormPageProps): VNode {
  const { errors } = props;
  return html`
    <${Layout} title="Schoolbesturen registreren" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Beheer</p>
      <h1 class="utrecht-heading-1">Schoolbesturen registreren</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Registreer schoolbesturen met de lijst van bevoegde gezagen van DUO, aangevuld met het
        contactadres van elk bestuur. Akkoord stuurt de berichten voor een bestuur naar dat adres.
      </p>
      <p class="utrecht-paragraph">
        Het register telt nu ${countText(props.registered)}. Nieuwe besturen worden toegevoegd,
        bestaande bijgewerkt; besturen die niet in het bestand staan, blijven zoals ze zijn. U ziet
        eerst wat er verandert; pas daarna registreert u, in één vastgelegde stap.
      </p>
      <${ErrorSummary} title="Er is niets geregistreerd." errors=${errors} />
      <${RowProblems} problems=${props.rowProblems} more=${props.moreProblems} />
      <form method="post" action=${`${PATH}/controleren`} enctype="multipart/form-data"
        class="utrecht-form akkoord-offer-form">
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <${TextField} id="csvFile" label="CSV-bestand" error=${errors["csvFile"]}
          description=${`Een CSV-bestand in UTF-8 met komma's, hoogstens ${props.limits.rows} besturen en ${props.limits.body}. Een gekozen bestand gaat voor geplakte tekst.`}>
          <input class="akkoord-file-input" id="csvFile" name="csvFile" type="file"
            accept=".csv,text/csv,text/plain"
            aria-describedby=${describedBy("csvFile", errors["csvFile"])}
            aria-invalid=${errors["csvFile"] ? "true" : undefined} />
          <//>
          <${TextField} id="csv" label="Of plak de lijst" error=${errors["csv"]}
            description=${`De eerste regel is precies ${HEADER}. Daarna één bestuur per regel: DUO-nummer (5 cijfers), KvK-nummer (8 cijfers), naam, sector (bo, so, vo, mbo of ho, meer met + ertussen, zoals bo+so) en één e-mailadres. Zet een naam met een komma tussen aanhalingstekens.`}>
            <${TextArea} id="csv" rows=${14} spellcheck=${false} class="akkoord-code-input"
              value=${props.csv} error=${errors["csv"]} />
            <//>
            <button type="submit" name="step" value="preview"
              class="utrecht-button utrecht-button--primary-action">
              Controleren
            </button>
            </form>
            <p class="utrecht-paragraph">
              <a class="utrecht-link utrecht-link--html-a" href="/admin">Terug naar alle
                schoolbesturen</a>
            </p>
            <//>
  `;
}

function RowProblems(props: { problems: string[]; more: number }): VNode | null {
  if (props.problems.length === 0) return null;
  return html`
    <section aria-labelledby="fouten-titel">
      <h2 class="utrecht-heading-2" id="fouten-titel">Fouten per rij</h2>
      <p class="utrecht-paragraph akkoord-muted">
        Rijen tellen zoals in een spreadsheet: de kopregel is rij 1.
      </p>
      <ul class="utrecht-unordered-list">
        ${props.problems.map((problem) =>
          html`<li class="utrecht-unordered-list__item">${problem}</li>`
        )}
      </ul>
      ${props.more > 0
        ? html`<p class="utrecht-paragraph">En nog ${props.more} ${
          props.more === 1 ? "fout" : "fouten"
        }.</p>`
        : null}
    </section>
  `;
}

/**
 * What registering the checked file would do: how many boards are new,
 * change or stay as they are, and per changed board what changes.
 */
export function BoardRegistryPreviewPage(props: BoardRegistryPreviewPageProps): VNode {
  const { counts } = props;
  const nothing = counts.added === 0 && counts.changed === 0;
  return html`
    <${Layout} title="Controleer de besturen" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Beheer</p>
      <h1 class="utrecht-heading-1">Controleer de besturen</h1>
      <${WarningNotice} message=${props.notice} />
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        ${nothing
          ? "Alle besturen in het bestand staan al zo in het register. Registreren verandert niets."
          : "Er is nog niets geregistreerd. Controleer de aantallen en de wijzigingen."}
      </p>
      <ul class="utrecht-unordered-list" aria-label="Aantallen">
        <li class="utrecht-unordered-list__item">Nieuw: ${counts.added}</li>
        <li class="utrecht-unordered-list__item">Gewijzigd: ${counts.changed}</li>
        <li class="utrecht-unordered-list__item">Ongewijzigd: ${counts.unchanged}</li>
        <li class="utrecht-unordered-list__item">
          Niet in het bestand, blijven zoals ze zijn: ${counts.untouched}
        </li>
      </ul>
      <${ChangeTable} changes=${props.changes} />
      <form method="post" action=${PATH} enctype="multipart/form-data"
        class="utrecht-form akkoord-decision">
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <input type="hidden" name="fingerprint" value=${props.fingerprint} />
        <input type="hidden" name="csv" value=${props.csv} />
        <div class="utrecht-button-group utrecht-button-group--row">
          ${nothing ? null : html`
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
              Registreren
            </button>
          `}
          <button type="submit" name="step" value="edit" formaction=${`${PATH}/controleren`}
            class="utrecht-button utrecht-button--secondary-action">
            Terug naar het formulier
          </button>
        </div>
      </form>
      <//>
  `;
}

function ChangeTable(props: { changes: BoardChangeRow[] }): VNode | null {
  if (props.changes.length === 0) return null;
  return html`
    <${TableScroll} captionId="wijzigingen-titel">
      <table class="utrecht-table utrecht-table--html-table">
        <caption class="utrecht-table__caption" id="wijzigingen-titel">
          Besturen die veranderen
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Schoolbestuur</th>
            <th scope="col" class="utrecht-table__header-cell">Wat er verandert</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.changes.map((row) =>
            html`
              <tr class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">
                  ${row.name} <span class="akkoord-muted">(${row.id})</span>
                </th>
                <td class="utrecht-table__cell">
                  <ul class="utrecht-unordered-list">
                    ${row.changes.map((change) =>
                      html`
                        <li class="utrecht-unordered-list__item">
                          ${change.label}: ${change.before} wordt ${change.after}
                        </li>
                      `
                    )}
                  </ul>
                </td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}

/** What registering did: how many boards, and the commit that holds them. */
export function BoardRegistryResultPage(props: BoardRegistryResultPageProps): VNode {
  const registered = props.added + props.changed;
  return html`
    <${Layout} title="Besturen geregistreerd" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Beheer</p>
      <h1 class="utrecht-heading-1">Besturen geregistreerd</h1>
      <${DoneNotice} message=${registered === 0
        ? "Er is niets veranderd: alle besturen in het bestand stonden al zo in het register."
        : `${
          countText(registered)
        } geregistreerd: ${props.added} nieuw, ${props.changed} gewijzigd. ${props.unchanged} ongewijzigd.`} />
      ${props.commit
        ? html`
          <p class="utrecht-paragraph akkoord-muted">
            Vastgelegd in de geschiedenis als commit${" "}
            <code class="utrecht-code akkoord-hash">${props.commit}</code>
          </p>
        `
        : null}
      <ul class="utrecht-unordered-list">
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link utrecht-link--html-a" href="/admin">Naar alle schoolbesturen</a>
        </li>
        <li class="utrecht-unordered-list__item">
          <a class="utrecht-link utrecht-link--html-a" href=${PATH}>Nog een lijst registreren</a>
        </li>
      </ul>
      <//>
  `;
}

function countText(boards: number): string {
  return boards === 1 ? "1 bestuur" : `${boards} besturen`;
}
