import type { VNode } from "preact";
import type { Board } from "../domain/state.ts";
import { formatDateTime } from "./format.ts";
import { DoneNotice, ErrorSummary, TextField, TextInput } from "./form_field.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";

/** The person's saved address, as the page shows it. */
export interface SavedAddress {
  email: string;
  /** The mandates held when it was saved, as eHerkenning names them. */
  mandates: string[];
  savedAt: string;
}

/** Props of {@link NotificationsPage}. */
export interface NotificationsPageProps {
  board: Board;
  user: PageUser;
  csrf: string;
  saved: SavedAddress | null;
  /** What just happened: saved or removed. */
  done?: "saved" | "removed";
  /** Form errors by field name: `email`. */
  errors?: Record<string, string>;
  values?: { email: string };
  maxLength: number;
}

/**
 * "Mijn meldingen": where a board person registers their own address, to be
 * told when an agreement has waited too long for the step their mandate allows.
 */
export function NotificationsPage(props: NotificationsPageProps): VNode {
  return html`
    <${Layout} title="Mijn meldingen" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${props.board.name}</p>
      <h1 class="utrecht-heading-1">Mijn meldingen</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Wacht een verwerkersovereenkomst te lang op beoordeling of ondertekening, dan krijgt het
        contactadres van uw bestuur eerst een herinnering. Blijft ze daarna liggen, dan krijgt u
        ook zelf bericht, als u hier een adres opgeeft en de machtiging hebt die de stap vraagt.
      </p>
      <p class="utrecht-paragraph">
        Uw adres staat niet in de geschiedenis van Akkoord en niemand anders ziet het. U kunt het
        hier altijd weer verwijderen.
      </p>
      ${props.done
        ? html`<${DoneNotice} message=${
          props.done === "saved" ? "Uw meldadres is opgeslagen." : "Uw meldadres is verwijderd."
        } />`
        : null}
      <${ErrorSummary} title="Het adres is niet opgeslagen." errors=${props.errors} />
      ${props.saved ? html`<${Saved} ...${props} saved=${props.saved} />` : null}
      <${SaveForm} ...${props} />
    <//>
  `;
}

function Saved(props: NotificationsPageProps & { saved: SavedAddress }): VNode {
  return html`
    <section aria-labelledby="adres-titel">
      <h2 class="utrecht-heading-2" id="adres-titel">Uw meldadres</h2>
      <p class="utrecht-paragraph">
        <strong>${props.saved.email}</strong>, opgeslagen op ${formatDateTime(props.saved.savedAt)}
        met de machtiging${props.saved.mandates.length === 1 ? "" : "en"}
        ${" "}${props.saved.mandates.join(" en ") || "(geen)"}.
      </p>
      <form method="post" action=${`/boards/${
        encodeURIComponent(props.board.id)
      }/notifications/remove`}>
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <button type="submit" class="utrecht-button utrecht-button--secondary-action">
          Meldadres verwijderen
        </button>
      </form>
    </section>
  `;
}

function SaveForm(props: NotificationsPageProps): VNode {
  const error = props.errors?.email;
  return html`
    <section aria-labelledby="opgeven-titel">
      <h2 class="utrecht-heading-2" id="opgeven-titel">
        ${props.saved ? "Ander adres opgeven" : "Adres opgeven"}
      </h2>
      <form method="post" action=${`/boards/${
        encodeURIComponent(props.board.id)
      }/notifications`} class="utrecht-form akkoord-decision">
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <${TextField}
          id="email"
          label="E-mailadres"
          description="Akkoord onthoudt ook met welke machtigingen u nu bent ingelogd."
          error=${error}
        >
          <${TextInput}
            id="email"
            type="email"
            required
            maxLength=${props.maxLength}
            autocomplete="email"
            value=${props.values?.email ?? props.saved?.email ?? ""}
            error=${error}
          />
          <//>
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Opslaan
          </button>
          </form>
          </section>
  `;
}
