import type { ComponentChildren, VNode } from "preact";
import { html } from "./html.ts";
import { roleLabel } from "./labels.ts";

/** The logged-in person as the page header shows them. */
export interface PageUser {
  name: string;
  organisation: string;
  roles: string[];
}

/** Props of {@link Layout}. */
export interface LayoutProps {
  /** The page's own title; " — Akkoord" is appended in the document title. */
  title: string;
  user?: PageUser;
  /** The session's CSRF token; the logout button needs it. */
  csrf?: string;
  children?: ComponentChildren;
}

/** The theme class of the NL Design System "voorbeeld" design tokens. */
export const THEME_CLASS = "voorbeeld-theme";

/** The whole HTML document around a page: header, navigation, main and footer. */
export function Layout(props: LayoutProps): VNode {
  return html`
    <html lang="nl" class="utrecht-root ${THEME_CLASS}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${props.title} — Akkoord</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/utrecht.css" />
        <link rel="stylesheet" href="/assets/tokens.css" />
        <link rel="stylesheet" href="/assets/app.css" />
      </head>
      <body class="utrecht-body akkoord-body">
        <a class="utrecht-skip-link utrecht-skip-link--visible-on-focus" href="#inhoud">
          Direct naar de inhoud
        </a>
        <${PageHeader} user=${props.user} csrf=${props.csrf} />
        ${props.user ? html`<${MainNavigation} user=${props.user} />` : null}
        <main class="utrecht-page-body" id="inhoud">
          <div class="utrecht-page-body__content akkoord-main">${props.children}</div>
        </main>
        <${PageFooter} />
      </body>
    </html>
  `;
}

function PageHeader(props: { user?: PageUser; csrf?: string }): VNode {
  return html`
    <header class="utrecht-page-header akkoord-header">
      <div class="utrecht-page-header__content akkoord-header__content">
        <a class="akkoord-brand" href="/">
          <span class="akkoord-brand__name">Akkoord</span>
          <span class="akkoord-brand__tagline">Verwerkersovereenkomsten voor het onderwijs</span>
        </a>
        ${props.user ? html`<${UserBox} user=${props.user} csrf=${props.csrf} />` : null}
      </div>
    </header>
  `;
}

function UserBox(props: { user: PageUser; csrf?: string }): VNode {
  const roles = props.user.roles.map(roleLabel).join(", ");
  return html`
    <div class="akkoord-user">
      <p class="utrecht-paragraph akkoord-user__who">
        <span class="akkoord-visually-hidden">Ingelogd als </span>
        <strong>${props.user.name}</strong>
        <br />
        ${props.user.organisation}${roles ? ` · ${roles}` : ""}
      </p>
      ${props.csrf === undefined ? null : html`
        <form method="post" action="/logout" class="akkoord-user__logout">
          <input type="hidden" name="_csrf" value=${props.csrf} />
          <button type="submit" class="utrecht-button utrecht-button--secondary-action">
            Uitloggen
          </button>
        </form>
        <form method="post" action="/logout/everywhere" class="akkoord-user__logout">
          <input type="hidden" name="_csrf" value=${props.csrf} />
          <button type="submit" class="utrecht-button utrecht-button--subtle">
            Afmelden op alle apparaten
          </button>
        </form>
      `}
    </div>
  `;
}

// Only auditors and administrators may clone the history, so only they manage access tokens.
const TOKEN_HOLDER_ROLES = new Set(["auditor", "beheer"]);

function MainNavigation(props: { user: PageUser }): VNode {
  const tokenHolder = props.user.roles.some((role) => TOKEN_HOLDER_ROLES.has(role));
  const supplier = props.user.roles.includes("leverancier");
  return html`
    <nav class="utrecht-nav-bar akkoord-nav" aria-label="Hoofdmenu">
      <div class="utrecht-nav-bar__content">
        <ul class="utrecht-nav-list">
          <li class="utrecht-nav-list__item">
            <a class="utrecht-link utrecht-nav-list__link" href="/">Overzicht</a>
          </li>
          ${tokenHolder
            ? html`
              <li class="utrecht-nav-list__item">
                <a class="utrecht-link utrecht-nav-list__link" href="/tokens">Toegangssleutels</a>
              </li>
            `
            : null} ${supplier
            ? html`
              <li class="utrecht-nav-list__item">
                <a class="utrecht-link utrecht-nav-list__link" href="/keys">API-sleutels</a>
              </li>
            `
            : null}
        </ul>
      </div>
    </nav>
  `;
}

function PageFooter(): VNode {
  return html`
    <footer class="utrecht-page-footer">
      <div class="utrecht-page-footer__content">
        <p class="utrecht-paragraph">
          Akkoord is open-sourcesoftware voor het sluiten en bewaren van
          verwerkersovereenkomsten tussen leveranciers en schoolbesturen.
        </p>
        <p class="utrecht-paragraph utrecht-paragraph--small">
          Gegevens over schoolbesturen: DUO, CC BY 4.0.
        </p>
      </div>
    </footer>
  `;
}
