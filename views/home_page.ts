import type { VNode } from "preact";
import { html } from "./html.ts";
import { Layout } from "./layout.ts";

/** The start page for visitors who are not logged in. */
export function HomePage(): VNode {
  return html`
    <${Layout} title="Welkom">
      <h1 class="utrecht-heading-1">Verwerkersovereenkomsten sluiten zonder papierwerk</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Akkoord is de plek waar leveranciers van onderwijssoftware en schoolbesturen hun
        verwerkersovereenkomsten afsluiten en bewaren.
      </p>
      <p class="utrecht-paragraph">
        Een leverancier biedt één overeenkomst per schoolbestuur aan, met een privacybijsluiter
        voor elk product. Iemand met het mandaat om te beoordelen keurt de overeenkomst goed of
        wijst haar af met een reden; daarna ondertekent de tekeningsbevoegde namens het bestuur.
      </p>
      <p class="utrecht-paragraph">
        Elke stap wordt vastgelegd in een ondertekende geschiedenis die iedereen met standaard Git-software
        kan controleren. Zo weet u altijd welke versie van kracht is, wie haar heeft goedgekeurd
        en wanneer zij is ondertekend.
      </p>
      <p class="utrecht-paragraph">
        <a class="utrecht-button-link utrecht-button-link--html-a utrecht-button-link--primary-action"
          href="/login">
          Inloggen met eHerkenning
        </a>
      </p>
      <//>
  `;
}
