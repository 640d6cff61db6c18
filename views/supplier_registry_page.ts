import type { VNode } from "preact";
import type { Supplier } from "../domain/state.ts";
import { DoneNotice, ErrorSummary, TextField, TextInput } from "./form_field.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { TableScroll } from "./table_scroll.ts";

const PATH = "/admin/leveranciers";

/** The values of the supplier form, as typed. */
export interface SupplierValues {
  kvk: string;
  name: string;
  contactEmail: string;
}

/** Props of {@link SupplierRegistryPage}. */
export interface SupplierRegistryPageProps {
  values: SupplierValues;
  /** Form errors by field id: `kvk`, `name`, `contactEmail`. */
  errors: Record<string, string>;
  /** What the last registration did, and its commit (null when nothing changed). */
  done?: { message: string; commit: string | null };
  /** The registered suppliers, in the order to show. */
  suppliers: Supplier[];
  limits: { name: number; contactEmail: number };
  user: PageUser;
  csrf: string;
}

/**
 * The administrator's form to register one supplier, or change a registered
 * supplier's name and contact address, above the list of registered suppliers.
 */
export function SupplierRegistryPage(props: SupplierRegistryPageProps): VNode {
  const { errors, values } = props;
  return html`
    <${Layout} title="Leveranciers registreren" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Beheer</p>
      <h1 class="utrecht-heading-1">Leveranciers registreren</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Een leverancier kan pas inloggen en verwerkersovereenkomsten aanbieden als hij in het
        register staat. Registreer hem met zijn KvK-nummer, naam en contactadres.
      </p>
      <p class="utrecht-paragraph">
        Vult u het KvK-nummer in van een leverancier die al geregistreerd is, dan wijzigt u zijn naam
        en contactadres. Elke registratie of wijziging wordt vastgelegd in de geschiedenis.
      </p>
      ${props.done
        ? html`
          <${DoneNotice} message=${props.done.message} />
          ${props.done.commit
            ? html`
              <p class="utrecht-paragraph akkoord-muted">
                Vastgelegd in de geschiedenis als commit${" "}
                <code class="utrecht-code akkoord-hash">${props.done.commit}</code>
              </p>
            `
            : null}
        `
        : null}
      <${ErrorSummary} title="Er is niets geregistreerd." errors=${errors} />
      <form method="post" action=${PATH} class="utrecht-form akkoord-decision">
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <${TextField} id="kvk" label="KvK-nummer" error=${errors["kvk"]}
          description="Het nummer van de leverancier bij de Kamer van Koophandel: 8 cijfers.">
          <${TextInput} id="kvk" required maxLength=${8} autocomplete="off" value=${values.kvk}
            error=${errors["kvk"]} />
          <//>
          <${TextField} id="name" label="Naam" error=${errors["name"]}
            description=${`De naam van het bedrijf zoals besturen hem zien, op één regel, hoogstens ${props.limits.name} tekens.`}>
            <${TextInput} id="name" required maxLength=${props.limits.name}
              autocomplete="organization" value=${values.name} error=${errors["name"]} />
            <//>
            <${TextField} id="contactEmail" label="Contactadres" error=${errors["contactEmail"]}
              description="Eén e-mailadres, zoals privacy@leverancier.nl. Akkoord stuurt de berichten voor de leverancier naar dit adres.">
              <${TextInput} id="contactEmail" type="email" required
                maxLength=${props.limits.contactEmail} autocomplete="email"
                value=${values.contactEmail} error=${errors["contactEmail"]} />
              <//>
              <button type="submit" class="utrecht-button utrecht-button--primary-action">
                Registreren
              </button>
              </form>
              <${SupplierTable} suppliers=${props.suppliers} />
              <p class="utrecht-paragraph">
                <a class="utrecht-link utrecht-link--html-a" href="/admin">Terug naar beheer</a>
              </p>
              <//>
  `;
}

function SupplierTable(props: { suppliers: Supplier[] }): VNode {
  if (props.suppliers.length === 0) {
    return html`
      <p class="utrecht-paragraph">Er zijn nog geen leveranciers geregistreerd.</p>
    `;
  }
  return html`
    <${TableScroll} captionId="leveranciers-titel">
      <table class="utrecht-table utrecht-table--html-table">
        <caption class="utrecht-table__caption" id="leveranciers-titel">
          Geregistreerde leveranciers (${props.suppliers.length})
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Leverancier</th>
            <th scope="col" class="utrecht-table__header-cell">KvK-nummer</th>
            <th scope="col" class="utrecht-table__header-cell">Contactadres</th>
            <th scope="col" class="utrecht-table__header-cell">
              <span class="akkoord-visually-hidden">Actie</span>
            </th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.suppliers.map((supplier) =>
            html`
              <tr class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">${supplier.name}</th>
                <td class="utrecht-table__cell">${supplier.id}</td>
                <td class="utrecht-table__cell">${supplier.contactEmail}</td>
                <td class="utrecht-table__cell">
                  <a class="utrecht-link utrecht-link--html-a" href=${`${PATH}?kvk=${supplier.id}#kvk`}>
                    Wijzigen<span class="akkoord-visually-hidden"> ${supplier.name}</span>
                  </a>
                </td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}
