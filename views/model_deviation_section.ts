import type { VNode } from "preact";
import type { DeviationKind, ModelComparison, ModelDeviation } from "../domain/compare_model.ts";
import { html } from "./html.ts";

/** Props of {@link ModelDeviationSection}. */
export interface ModelDeviationSectionProps {
  model: ModelComparison;
  /** The heading level of the section's title: 2 on its own page, 3 inside another section. */
  level?: 2 | 3;
  /** Prefix of the section's ids, unique on the page. */
  idPrefix?: string;
}

const DEVIATION_LABELS: Record<DeviationKind, string> = {
  renamed: "Andere titel dan in het model",
  merged: "Meer modelartikelen samengevoegd in één artikel",
  split: "Eén modelartikel verdeeld over meer artikelen",
};

/**
 * How a text holds against the sector model: missing and extra articles,
 * renamed, merged and split ones, and for each obligation of GDPR art. 28(3)
 * the articles whose words point at it. Deviations are facts to weigh, and
 * the obligations are pointers to read, not verdicts on the content.
 */
export function ModelDeviationSection(props: ModelDeviationSectionProps): VNode {
  const { model } = props;
  const id = props.idPrefix ?? "model";
  const Heading = props.level === 3 ? "h3" : "h2";
  const Sub = props.level === 3 ? "h4" : "h3";
  const none = model.missing.length === 0 && model.deviations.length === 0 &&
    model.extra.length === 0 && model.uncovered.length === 0;
  return html`
    <section aria-labelledby=${`${id}-titel`} class="akkoord-model">
      <${Heading} class=${`utrecht-heading-${props.level ?? 2}`} id=${`${id}-titel`}>
        Vergelijking met het sectormodel
      <//>
      <p class="utrecht-paragraph akkoord-muted">
        Automatisch vergeleken met de ${model.model}: op artikeltitels en trefwoorden. Een afwijking
        mag, met een reden; beoordeel of die reden overtuigt.
      </p>
      <p class="utrecht-paragraph">${summaryLine(model, none)}</p>
      ${model.missing.length > 0
        ? html`
          <${Sub} class=${`utrecht-heading-${(props.level ?? 2) + 1}`}>Ontbreekt in de tekst<//>
          <ul class="utrecht-unordered-list">
            ${model.missing.map((article) =>
              html`<li class="utrecht-unordered-list__item">${article.title}</li>`
            )}
          </ul>
        `
        : null} ${model.deviations.length > 0
        ? html`
          <${Sub} class=${`utrecht-heading-${
            (props.level ?? 2) + 1
          }`}>Anders ingedeeld dan het model<//>
          <ul class="utrecht-unordered-list">
            ${model.deviations.map((deviation) =>
              html`<${DeviationItem} deviation=${deviation} />`
            )}
          </ul>
        `
        : null} ${model.extra.length > 0
        ? html`
          <${Sub} class=${`utrecht-heading-${(props.level ?? 2) + 1}`}>Niet in het model<//>
          <ul class="utrecht-unordered-list">
            ${model.extra.map((title) =>
              html`<li class="utrecht-unordered-list__item">${title}</li>`
            )}
          </ul>
        `
        : null}
      <${Sub} class=${`utrecht-heading-${
        (props.level ?? 2) + 1
      }`}>Verplichtingen uit artikel 28 lid 3 AVG<//>
      <p class="utrecht-paragraph">
        Dit is een wegwijzer voor de beoordelaar, geen oordeel over de inhoud: Akkoord zoekt alleen
        naar woorden die bij elke verplichting horen. Of de tekst de verplichting echt aangaat, ziet
        u pas door het genoemde artikel te lezen.
      </p>
      <ul class="utrecht-unordered-list akkoord-obligations">
        ${model.obligations.map((obligation) =>
          html`
            <li class="utrecht-unordered-list__item">
              <strong>${obligation.covered
                ? `Genoemd in ${places(obligation.foundIn)}`
                : "Niet gevonden"}:</strong>${" "}
              (${obligation.point}) ${obligation.summary}
            </li>
          `
        )}
      </ul>
    </section>
  `;
}

/** The first few articles whose words point at an obligation, and how many more. */
function places(titles: string[]): string {
  const shown = titles.slice(0, 3).map((title) => title ? `"${title}"` : "de tekst").join(", ");
  return titles.length > 3 ? `${shown} en ${titles.length - 3} andere` : shown;
}

function DeviationItem(props: { deviation: ModelDeviation }): VNode {
  const { deviation } = props;
  const model = deviation.model.map((article) => article.title).join(" + ");
  return html`
    <li class="utrecht-unordered-list__item">
      <strong>${DEVIATION_LABELS[deviation.kind]}:</strong>${" "}
      ${deviation.articles.map((title) => `"${title}"`).join(", ")} — in het model: ${model}
    </li>
  `;
}

function summaryLine(model: ModelComparison, none: boolean): string {
  if (none) {
    return "Geen afwijkingen in de opbouw gevonden, en elke verplichting uit artikel 28 lid 3 AVG wordt in een artikel genoemd.";
  }
  const parts = [
    `${model.missing.length} ontbrekend`,
    `${model.deviations.length} anders ingedeeld`,
    `${model.extra.length} extra`,
    `${model.uncovered.length} van de ${model.obligations.length} verplichtingen uit artikel 28 lid 3 nergens genoemd`,
  ];
  return `Artikelen: ${parts.join(", ")}.`;
}
