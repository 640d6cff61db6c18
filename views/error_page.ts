import type { VNode } from "preact";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";

/** The HTTP statuses the UI shows a page for. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 500;

/** Props of {@link ErrorPage}. */
export interface ErrorPageProps {
  status: ErrorStatus;
  /** A Dutch sentence for the person; never internals such as stack traces. */
  detail?: string;
  user?: PageUser;
  csrf?: string;
}

interface Explanation {
  title: string;
  text: string;
}

/** The Dutch title and explanation per status. */
export const ERROR_EXPLANATIONS: Record<ErrorStatus, Explanation> = {
  400: {
    title: "Dat klopt niet helemaal",
    text: "Wat u verstuurde, kunnen we niet verwerken. Ga terug en controleer de gegevens.",
  },
  401: {
    title: "U bent niet ingelogd",
    text: "Log in met eHerkenning om verder te gaan.",
  },
  403: {
    title: "Geen toegang",
    text:
      "U hebt geen machtiging voor deze pagina of handeling. Vraag zo nodig de beheerder van eHerkenning in uw organisatie om de juiste machtiging.",
  },
  404: {
    title: "Niet gevonden",
    text: "Deze pagina bestaat niet (meer). Controleer het adres of ga terug naar het overzicht.",
  },
  409: {
    title: "Dit kan nu niet meer",
    text:
      "De overeenkomst is intussen veranderd, bijvoorbeeld doordat iemand anders haar al heeft beoordeeld of de leverancier een nieuwe versie aanbood. Bekijk de actuele stand en probeer het opnieuw.",
  },
  413: {
    title: "Wat u verstuurde is te groot",
    text:
      "Het formulier bevatte meer gegevens dan Akkoord in één keer aanneemt en is daarom niet verwerkt. Ga terug en verstuur minder, bijvoorbeeld kleinere bestanden.",
  },
  422: {
    title: "Dat klopt niet helemaal",
    text: "Een of meer gegevens zijn niet goed ingevuld. Ga terug en verbeter ze.",
  },
  500: {
    title: "Er ging iets mis",
    text:
      "Door een fout bij ons kon uw verzoek niet worden afgerond. Er is niets vastgelegd. Probeer het later opnieuw.",
  },
};

/** A page explaining in Dutch why a request could not be done. */
export function ErrorPage(props: ErrorPageProps): VNode {
  const explanation = ERROR_EXPLANATIONS[props.status];
  return html`
    <${Layout} title=${explanation.title} user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Foutcode ${props.status}</p>
      <h1 class="utrecht-heading-1">${explanation.title}</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">${explanation.text}</p>
      ${props.detail ? html`<p class="utrecht-paragraph">${props.detail}</p>` : null}
      <p class="utrecht-paragraph">
        ${props.status === 401
          ? html`
            <a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action"
              href="/login">Inloggen met eHerkenning</a>
          `
          : html`<a class="utrecht-link utrecht-link--html-a" href="/">Naar het overzicht</a>`}
      </p>
    <//>
  `;
}
