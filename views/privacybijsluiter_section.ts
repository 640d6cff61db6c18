import type { VNode } from "preact";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import { formatCountry, formatDate } from "./format.ts";
import { html } from "./html.ts";
import { TableScroll } from "./table_scroll.ts";
import { DATA_SUBJECT_LABELS, yesNo } from "./labels.ts";

type Contact = Privacybijsluiter["supplier"]["privacyContact"];

/** One product's privacybijsluiter as headed lists and tables. */
export function PrivacybijsluiterSection(props: { annex: Privacybijsluiter }): VNode {
  const annex = props.annex;
  const id = `product-${annex.product.id}`;
  return html`
    <section class="akkoord-annex" aria-labelledby=${id}>
      <h3 class="utrecht-heading-3" id=${id}>
        ${annex.product.name} <span class="akkoord-muted">versie ${annex.product.version}</span>
      </h3>
      <p class="utrecht-paragraph akkoord-prewrap">${annex.product.description}</p>
      <dl class="akkoord-facts">
        <div class="akkoord-facts__item">
          <dt>Leverancier</dt>
          <dd>${annex.supplier.name} (KvK ${annex.supplier.kvk})</dd>
        </div>
        <div class="akkoord-facts__item">
          <dt>Privacycontact</dt>
          <dd>
            <${ContactText} contact=${annex.supplier.privacyContact} />
          </dd>
        </div>
        <div class="akkoord-facts__item">
          <dt>Contact bij datalekken</dt>
          <dd>
            <${ContactText} contact=${annex.supplier.breachContact} />
          </dd>
        </div>
        <div class="akkoord-facts__item">
          <dt>Opslaglocatie</dt>
          <dd>${annex.storageLocation}</dd>
        </div>
        <div class="akkoord-facts__item">
          <dt>Beveiliging</dt>
          <dd>${annex.security.annexReference}</dd>
        </div>
        <div class="akkoord-facts__item">
          <dt>Certificeringen</dt>
          <dd>${annex.security.certifications.length > 0
            ? annex.security.certifications.join(", ")
            : "Geen opgegeven"}</dd>
        </div>
        <div class="akkoord-facts__item">
          <dt>Versie van deze bijsluiter</dt>
          <dd>${annex.documentVersion}, ${formatDate(annex.documentDate)}</dd>
        </div>
      </dl>
      <h4 class="utrecht-heading-4">Doelen van de verwerking</h4>
      <ul class="utrecht-unordered-list">
        ${annex.purposes.map((purpose) =>
          html`<li class="utrecht-unordered-list__item">${purpose}</li>`
        )}
      </ul>
      <h4 class="utrecht-heading-4">Betrokkenen</h4>
      <ul class="utrecht-unordered-list">
        ${annex.dataSubjects.map((subject) =>
          html`<li class="utrecht-unordered-list__item">${DATA_SUBJECT_LABELS[subject]}</li>`
        )}
      </ul>
      <${DataCategoryTable} annex=${annex} />
      <${SubProcessorTable} annex=${annex} />
    </section>
  `;
}

function ContactText(props: { contact: Contact }): VNode {
  const contact = props.contact;
  return html`
    <span>
      ${contact.name},${" "}
      <a class="utrecht-link utrecht-link--html-a" href=${`mailto:${contact.email}`}>${contact
        .email}</a>
      ${contact.phone ? `, ${contact.phone}` : ""}
    </span>
  `;
}

function DataCategoryTable(props: { annex: Privacybijsluiter }): VNode {
  return html`
    <${TableScroll} captionId=${`${props.annex.product.id}-gegevens`}>
      <table class="utrecht-table utrecht-table--html-table">
        <caption class="utrecht-table__caption akkoord-caption-small" id=${`${props.annex.product.id}-gegevens`}>
          Persoonsgegevens in ${props.annex.product.name}
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Categorie</th>
            <th scope="col" class="utrecht-table__header-cell">Bijzonder persoonsgegeven</th>
            <th scope="col" class="utrecht-table__header-cell">Nationaal identificatienummer</th>
            <th scope="col" class="utrecht-table__header-cell">Bewaartermijn</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.annex.dataCategories.map((category) =>
            html`
              <tr class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">
                  ${category.name}
                  ${category.description
                    ? html`<span class="akkoord-cell-note">${category.description}</span>`
                    : null}
                </th>
                <td class="utrecht-table__cell">${yesNo(category.special)}</td>
                <td class="utrecht-table__cell">${yesNo(category.nationalIdentifier)}</td>
                <td class="utrecht-table__cell">${category.retention}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}

function SubProcessorTable(props: { annex: Privacybijsluiter }): VNode {
  const name = props.annex.product.name;
  if (props.annex.subProcessors.length === 0) {
    return html`<p class="utrecht-paragraph">${name} gebruikt geen subverwerkers.</p>`;
  }
  return html`
    <${TableScroll} captionId=${`${props.annex.product.id}-subverwerkers`}>
      <table class="utrecht-table utrecht-table--html-table">
        <caption class="utrecht-table__caption akkoord-caption-small" id=${`${props.annex.product.id}-subverwerkers`}>
          Subverwerkers van ${name}
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Subverwerker</th>
            <th scope="col" class="utrecht-table__header-cell">Dienst</th>
            <th scope="col" class="utrecht-table__header-cell">Land</th>
            <th scope="col" class="utrecht-table__header-cell">Binnen de EER</th>
            <th scope="col" class="utrecht-table__header-cell">Waarborg bij doorgifte</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.annex.subProcessors.map((sub) =>
            html`
              <tr class="utrecht-table__row">
                <th scope="row" class="utrecht-table__header-cell">${sub.name}</th>
                <td class="utrecht-table__cell">${sub.service}</td>
                <td class="utrecht-table__cell">${formatCountry(sub.country)}</td>
                <td class="utrecht-table__cell">${yesNo(sub.insideEea)}</td>
                <td class="utrecht-table__cell">${sub.transferSafeguard ?? "—"}</td>
              </tr>
            `
          )}
        </tbody>
      </table>
      <//>
  `;
}
