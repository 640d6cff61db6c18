import type { VNode } from "preact";
import { html } from "./html.ts";
import { Layout } from "./layout.ts";

/** An organisation the developer may log in for. */
export interface DevBrokerOrganisation {
  kvk: string;
  name: string;
  kind: "board" | "supplier" | "operator";
}

/** What the development login page shows. */
export interface DevBrokerPageProps {
  /** Where the form posts to. */
  action: string;
  /** The authorization request, carried through the form unchanged. */
  request: Record<string, string>;
  organisations: DevBrokerOrganisation[];
}

const ASSURANCE_CHOICES = [
  ["loa2", "EH2 (loa2)"],
  ["loa2plus", "EH2+ (loa2plus)"],
  ["loa3", "EH3 (loa3)"],
  ["loa4", "EH4 (loa4)"],
] as const;

/** The page where a developer picks who to log in as; it is not real eHerkenning. */
export function DevBrokerPage(props: DevBrokerPageProps): VNode {
  const boards = props.organisations.filter((organisation) => organisation.kind === "board");
  const suppliers = props.organisations.filter((organisation) => organisation.kind === "supplier");
  const operators = props.organisations.filter((organisation) => organisation.kind === "operator");
  return html`
    <${Layout} title="Ontwikkel-inlog">
      <h1 class="utrecht-heading-1">Inloggen voor ontwikkeling</h1>
      <p class="utrecht-paragraph">
          Dit is geen echte eHerkenning. Deze testmakelaar draait alleen in de
          ontwikkelmodus en laat u zelf kiezen namens welke organisatie u inlogt.
        </p>
      <form class="utrecht-form" method="post" action="${props.action}">
          ${Object.entries(props.request).map(([name, value]) =>
            html`<input type="hidden" name="${name}" value="${value}" />`
          )}
          <div class="utrecht-form-field utrecht-form-field--select">
            <label class="utrecht-form-label" for="organisation">Organisatie</label>
            <select class="utrecht-select utrecht-select--html-select" id="organisation"
              name="organisation" required>
              ${optionGroup("Schoolbesturen", boards)} ${optionGroup("Leveranciers", suppliers)}
              ${optionGroup("Beheer en controle", operators)}
            </select>
          </div>
          <div class="utrecht-form-field utrecht-form-field--text">
            <label class="utrecht-form-label" for="name">Uw naam</label>
            <input class="utrecht-textbox utrecht-textbox--html-input" id="name" name="name"
              type="text" autocomplete="name" required maxlength="120" />
          </div>
          <fieldset class="utrecht-form-fieldset">
            <legend class="utrecht-form-fieldset__legend">Machtigingen</legend>
            <p class="utrecht-paragraph">
              Voor een leverancier geldt altijd de dienst "leverancier"; beoordelen en
              ondertekenen gelden alleen voor schoolbesturen.
            </p>
            ${checkbox("beoordelen", "Beoordelen van verwerkersovereenkomsten")}
            ${checkbox("ondertekenen", "Ondertekenen (tekeningsbevoegd)")}
            ${checkbox("beheer", "Beheer van Akkoord")}
            ${checkbox("auditor", "Controleren (auditor)")}
          </fieldset>
          <div class="utrecht-form-field utrecht-form-field--select">
            <label class="utrecht-form-label" for="assurance">Betrouwbaarheidsniveau</label>
            <select class="utrecht-select utrecht-select--html-select" id="assurance"
              name="assurance">
              ${ASSURANCE_CHOICES.map(([value, label]) =>
                html`<option value="${value}" selected=${value === "loa3"}>${label}</option>`
              )}
            </select>
          </div>
          <button class="utrecht-button utrecht-button--primary-action" type="submit">
            Inloggen
          </button>
        </form>
      <//>
  `;
}

/** The page shown when an authorization request cannot be served. */
export function DevBrokerErrorPage(props: { message: string }): VNode {
  return html`
    <${Layout} title="Inloggen niet mogelijk">
      <h1 class="utrecht-heading-1">Inloggen niet mogelijk</h1>
      <p class="utrecht-paragraph">${props.message}</p>
      <//>
  `;
}

function optionGroup(label: string, organisations: DevBrokerOrganisation[]): VNode | null {
  if (organisations.length === 0) return null;
  return html`
    <optgroup label="${label}">
      ${organisations.map((organisation) =>
        html`<option value="${organisation.kvk}">${organisation.name} (KvK ${organisation.kvk})</option>`
      )}
    </optgroup>
  `;
}

function checkbox(value: string, label: string): VNode {
  const id = `mandate-${value}`;
  return html`
    <div class="utrecht-form-field utrecht-form-field--checkbox">
      <input class="utrecht-checkbox utrecht-checkbox--html-input" type="checkbox" id="${id}"
        name="mandate" value="${value}" />
      <label class="utrecht-form-label utrecht-form-label--checkbox"
        for="${id}">${label}</label>
    </div>
  `;
}
