import type { VNode } from "preact";
import { formatDateTime } from "./format.ts";
import { DoneNotice, ErrorSummary, LabelInput, TextArea, TextField } from "./form_field.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { TableScroll } from "./table_scroll.ts";

/** One registered key of the supplier, as the page lists it. */
export interface ApiKeyRow {
  /** The RFC 7638 thumbprint, which is also the `kid` of the key. */
  thumbprint: string;
  label: string;
  algorithms: string[];
  /** ISO 8601 timestamps and the names of who acted. */
  registeredAt: string;
  registeredBy: string;
  revokedAt?: string;
  revokedBy?: string;
}

/** Props of {@link ApiKeysPage}. */
export interface ApiKeysPageProps {
  user: PageUser;
  csrf: string;
  supplier: { id: string; name: string };
  keys: ApiKeyRow[];
  /** The token endpoint, which is also the audience of a client assertion. */
  tokenUrl: string;
  /** A key was registered just before: its label. */
  registered?: string;
  /** A key was revoked just before. */
  revoked?: boolean;
  /** Form errors by field id: `label`, `jwk`. */
  errors?: Record<string, string>;
  values?: { label: string; jwk: string };
  maxActiveKeys: number;
}

/** The public keys with which a supplier's software gets access tokens for the supplier API. */
export function ApiKeysPage(props: ApiKeysPageProps): VNode {
  return html`
    <${Layout} title="API-sleutels" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${props.supplier.name}</p>
      <h1 class="utrecht-heading-1">API-sleutels</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Met een API-sleutel biedt uw software zelf verwerkersovereenkomsten aan via de API van
        Akkoord, zonder dat iemand inlogt.
      </p>
      <p class="utrecht-paragraph">
        U registreert hier alleen de publieke helft van een sleutelpaar. De privésleutel blijft bij
        uw software; Akkoord krijgt hem nooit te zien. Elke registratie en intrekking komt in de
        geschiedenis van Akkoord, met uw naam.
      </p>
      ${props.registered
        ? html`<${DoneNotice} message=${`Sleutel "${props.registered}" is geregistreerd.`} />`
        : null} ${props.revoked
        ? html`<${DoneNotice} message="De sleutel is ingetrokken en werkt niet meer." />`
        : null}
      <${ErrorSummary} title="De sleutel is niet geregistreerd." errors=${props.errors} />
      <${KeyList} ...${props} />
      <${RegisterForm} ...${props} />
      <${Usage} tokenUrl=${props.tokenUrl} supplier=${props.supplier.id} />
    <//>
  `;
}

function KeyList(props: ApiKeysPageProps): VNode {
  return html`
    <section aria-labelledby="sleutels-titel">
      <h2 class="utrecht-heading-2" id="sleutels-titel">Geregistreerde sleutels</h2>
      ${props.keys.length === 0
        ? html`<p class="utrecht-paragraph">U hebt nog geen API-sleutels geregistreerd.</p>`
        : html`<${KeyTable} keys=${props.keys} csrf=${props.csrf} supplier=${props.supplier.id} />`}
    </section>
  `;
}

function KeyTable(props: { keys: ApiKeyRow[]; csrf: string; supplier: string }): VNode {
  return html`
    <${TableScroll} captionId="sleutels-tabel">
      <table class="utrecht-table utrecht-table--html-table">
        <caption id="sleutels-tabel" class="utrecht-table__caption">
          Publieke sleutels van uw software
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Naam</th>
            <th scope="col" class="utrecht-table__header-cell">Vingerafdruk (kid)</th>
            <th scope="col" class="utrecht-table__header-cell">Algoritme</th>
            <th scope="col" class="utrecht-table__header-cell">Geregistreerd</th>
            <th scope="col" class="utrecht-table__header-cell">Status</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.keys.map((key) =>
            html`<${KeyRow} key=${key.thumbprint} row=${key} csrf=${props.csrf} supplier=${props.supplier} />`
          )}
        </tbody>
      </table>
      <//>
  `;
}

function KeyRow(props: { row: ApiKeyRow; csrf: string; supplier: string }): VNode {
  const { row } = props;
  return html`
    <tr class="utrecht-table__row">
      <th scope="row" class="utrecht-table__header-cell">${row.label}</th>
      <td class="utrecht-table__cell"><code class="utrecht-code akkoord-hash">${row
        .thumbprint}</code></td>
      <td class="utrecht-table__cell">${row.algorithms.join(", ")}</td>
      <td class="utrecht-table__cell">
        ${formatDateTime(row.registeredAt)} door ${row.registeredBy}
      </td>
      <td class="utrecht-table__cell">
        ${row.revokedAt
          ? `Ingetrokken op ${formatDateTime(row.revokedAt)} door ${row.revokedBy ?? "onbekend"}`
          : html`<${RevokeButton} ...${props} />`}
      </td>
    </tr>
  `;
}

function RevokeButton(props: { row: ApiKeyRow; csrf: string; supplier: string }): VNode {
  return html`
    <form method="post" action=${`/suppliers/${props.supplier}/keys/${props.row.thumbprint}/revoke`}>
      <input type="hidden" name="_csrf" value=${props.csrf} />
      <p class="utrecht-paragraph">Actief</p>
      <button type="submit" class="utrecht-button utrecht-button--secondary-action">
        Intrekken<span class="akkoord-visually-hidden"> van sleutel ${props.row.label}</span>
      </button>
    </form>
  `;
}

function RegisterForm(props: ApiKeysPageProps): VNode {
  return html`
    <section aria-labelledby="registreren-titel">
      <h2 class="utrecht-heading-2" id="registreren-titel">Publieke sleutel registreren</h2>
      <form
        method="post"
        action=${`/suppliers/${props.supplier.id}/keys`}
        class="utrecht-form akkoord-decision"
      >
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <${TextField}
          id="label"
          label="Naam van de sleutel"
          description="Bijvoorbeeld de server of de toepassing die de sleutel gebruikt."
          error=${props.errors?.label}
        >
          <${LabelInput} value=${props.values?.label} error=${props.errors?.label} />
          <//>
          <${TextField}
            id="jwk"
            label="Publieke sleutel als JWK (JSON)"
            description=${`Een EC-sleutel op P-256 (ES256), een RSA-sleutel van minstens 2048 bits (RS256 of PS256) of een Ed25519-sleutel (EdDSA). Plak alleen de publieke sleutel: een JWK met "d" of een symmetrische sleutel wordt geweigerd. U kunt ${props.maxActiveKeys} sleutels tegelijk actief hebben.`}
            error=${props.errors?.jwk}
          >
            <${TextArea}
              id="jwk"
              rows=${6}
              required
              spellcheck=${false}
              autocomplete="off"
              value=${props.values?.jwk ?? ""}
              error=${props.errors?.jwk}
            />
            <//>
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
          Sleutel registreren
        </button>
            </form>
            </section>
  `;
}

function Usage(props: { tokenUrl: string; supplier: string }): VNode {
  return html`
    <section aria-labelledby="gebruik-titel">
      <h2 class="utrecht-heading-2" id="gebruik-titel">Zo krijgt uw software toegang</h2>
      <p class="utrecht-paragraph">
        Uw software ondertekent met de privésleutel een kort JWT (een <em lang="en"
        >client assertion</em>, RFC 7523) met deze velden:
      </p>
      <pre class="utrecht-code-block"><code>${assertionExample(props)}</code></pre>
      <p class="utrecht-paragraph">
        en wisselt het in voor een toegangssleutel van 5 minuten:
      </p>
      <pre class="utrecht-code-block"><code>${tokenRequestExample(props)}</code></pre>
      <p class="utrecht-paragraph">
        Daarna roept uw software de API aan met
        ${" "}<code class="utrecht-code">Authorization: Bearer</code> en die toegangssleutel. Een
        ingetrokken sleutel werkt meteen niet meer, ook niet voor toegangssleutels die er al mee
        waren verkregen. Een voorbeeld staat in de README van Akkoord onder "Supplier API".
      </p>
    </section>
  `;
}

function assertionExample(props: { tokenUrl: string; supplier: string }): string {
  return [
    `header:  { "alg": "ES256", "kid": "<vingerafdruk>" }`,
    `payload: { "iss": "${props.supplier}", "sub": "${props.supplier}",`,
    `           "aud": "${props.tokenUrl}",`,
    `           "iat": <nu>, "exp": <hoogstens 5 minuten later>, "jti": "<uniek>" }`,
  ].join("\n");
}

function tokenRequestExample(props: { tokenUrl: string; supplier: string }): string {
  return [
    `POST ${props.tokenUrl}`,
    "Content-Type: application/x-www-form-urlencoded",
    "",
    `grant_type=client_credentials&client_id=${props.supplier}`,
    "&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "&client_assertion=<JWT>",
  ].join("\n");
}
