import type { VNode } from "preact";
import { formatDate, formatDateTime } from "./format.ts";
import {
  describedBy,
  DoneNotice,
  ErrorSummary,
  LabelInput,
  textboxClass,
  TextField,
} from "./form_field.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { TableScroll } from "./table_scroll.ts";

/** One of the person's access tokens, without its secret. */
export interface AccessTokenRow {
  id: string;
  label: string;
  /** ISO 8601 timestamps. */
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string;
  expired: boolean;
}

/** A token just created, shown with its secret this one time. */
export interface CreatedAccessToken {
  label: string;
  secret: string;
  expiresAt: string;
}

/** Props of {@link AccessTokensPage}. */
export interface AccessTokensPageProps {
  user: PageUser;
  csrf: string;
  tokens: AccessTokenRow[];
  /** The address of the history repository, e.g. `https://akkoord.example/history.git`. */
  cloneUrl: string;
  created?: CreatedAccessToken;
  /** A token was revoked just before. */
  revoked?: boolean;
  /** Form errors by field name: `label`, `days`. */
  errors?: Record<string, string>;
  /** The values the form was submitted with. */
  values?: { label: string; days: string };
  defaultDays: number;
  maxDays: number;
}

/** The personal access tokens with which an auditor or administrator clones the history. */
export function AccessTokensPage(props: AccessTokensPageProps): VNode {
  return html`
    <${Layout} title="Toegangssleutels" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Controle van de geschiedenis</p>
      <h1 class="utrecht-heading-1">Toegangssleutels</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Met een toegangssleutel haalt u de volledige geschiedenis van Akkoord op met git, om haar
        zelf te controleren.
      </p>
      <p class="utrecht-paragraph">
        De geschiedenis noemt de namen van iedereen die een overeenkomst aanbood, beoordeelde of
        ondertekende. Behandel een sleutel daarom als een wachtwoord en trek hem in zodra u hem niet
        meer nodig hebt.
      </p>
      ${props.created
        ? html`<${CreatedNotice} created=${props.created} cloneUrl=${props.cloneUrl} />`
        : null} ${props.revoked
        ? html`<${DoneNotice} message="De sleutel is ingetrokken en werkt niet meer." />`
        : null}
      <${ErrorSummary} title="De sleutel is niet gemaakt." errors=${props.errors} />
      <${TokenList} ...${props} />
      <${CreateForm} ...${props} />
      <${Usage} cloneUrl=${props.cloneUrl} />
    <//>
  `;
}

function CreatedNotice(props: { created: CreatedAccessToken; cloneUrl: string }): VNode {
  return html`
    <section class="utrecht-alert utrecht-alert--ok akkoord-alert" aria-labelledby="nieuw-titel">
      <div class="utrecht-alert__content">
        <div class="utrecht-alert__message">
          <h2 class="utrecht-heading-3" id="nieuw-titel">
            Sleutel "${props.created.label}" is gemaakt
          </h2>
          <p class="utrecht-paragraph">
            Kopieer de sleutel nu: u ziet hem maar één keer. Akkoord bewaart alleen een
            vingerafdruk ervan en kan hem niet opnieuw tonen. Hij werkt tot
            ${" "}${formatDate(props.created.expiresAt)}.
          </p>
          <div class="utrecht-form-field utrecht-form-field--text">
            <div class="utrecht-form-field__label">
              <label class="utrecht-form-label" for="secret">Uw nieuwe sleutel</label>
            </div>
            <div class="utrecht-form-field__input">
              <input
                class="utrecht-textbox utrecht-textbox--html-input utrecht-textbox--read-only akkoord-hash"
                id="secret"
                type="text"
                readonly
                autocomplete="off"
                spellcheck="false"
                value=${props.created.secret}
              />
            </div>
          </div>
          <p class="utrecht-paragraph">Haal de geschiedenis op met:</p>
          <pre class="utrecht-code-block"><code>git clone ${props.cloneUrl}</code></pre>
          <p class="utrecht-paragraph">
            Git vraagt om een gebruikersnaam en een wachtwoord. Vul als gebruikersnaam in wat u
            wilt en plak de sleutel als wachtwoord.
          </p>
        </div>
      </div>
    </section>
  `;
}

function TokenList(props: AccessTokensPageProps): VNode {
  return html`
    <section aria-labelledby="sleutels-titel">
      <h2 class="utrecht-heading-2" id="sleutels-titel">Uw sleutels</h2>
      ${props.tokens.length === 0
        ? html`<p class="utrecht-paragraph">U hebt nog geen toegangssleutels.</p>`
        : html`<${TokenTable} tokens=${props.tokens} csrf=${props.csrf} />`}
    </section>
  `;
}

function TokenTable(props: { tokens: AccessTokenRow[]; csrf: string }): VNode {
  return html`
    <${TableScroll} captionId="sleutels-tabel">
      <table class="utrecht-table utrecht-table--html-table">
        <caption id="sleutels-tabel" class="utrecht-table__caption">
          Uw toegangssleutels tot de geschiedenis
        </caption>
        <thead class="utrecht-table__header">
          <tr class="utrecht-table__row">
            <th scope="col" class="utrecht-table__header-cell">Naam</th>
            <th scope="col" class="utrecht-table__header-cell">Gemaakt</th>
            <th scope="col" class="utrecht-table__header-cell">Geldig tot</th>
            <th scope="col" class="utrecht-table__header-cell">Laatst gebruikt</th>
            <th scope="col" class="utrecht-table__header-cell">Intrekken</th>
          </tr>
        </thead>
        <tbody class="utrecht-table__body">
          ${props.tokens.map((token) => html`<${TokenRow} token=${token} csrf=${props.csrf} />`)}
        </tbody>
      </table>
      <//>
  `;
}

function TokenRow(props: { token: AccessTokenRow; csrf: string }): VNode {
  const { token } = props;
  return html`
    <tr class="utrecht-table__row">
      <th scope="row" class="utrecht-table__header-cell">${token.label}</th>
      <td class="utrecht-table__cell">${formatDateTime(token.createdAt)}</td>
      <td class="utrecht-table__cell">
        ${formatDate(token.expiresAt)}${token.expired ? " (verlopen)" : ""}
      </td>
      <td class="utrecht-table__cell">
        ${token.lastUsedAt ? formatDateTime(token.lastUsedAt) : "Nog niet gebruikt"}
      </td>
      <td class="utrecht-table__cell">
        <form method="post" action=${`/tokens/${token.id}/revoke`}>
          <input type="hidden" name="_csrf" value=${props.csrf} />
          <button type="submit" class="utrecht-button utrecht-button--secondary-action">
            Intrekken<span class="akkoord-visually-hidden"> van sleutel ${token.label}</span>
          </button>
        </form>
      </td>
    </tr>
  `;
}

function CreateForm(props: AccessTokensPageProps): VNode {
  return html`
    <section aria-labelledby="maken-titel">
      <h2 class="utrecht-heading-2" id="maken-titel">Nieuwe sleutel maken</h2>
      <form method="post" action="/tokens" class="utrecht-form akkoord-decision">
        <input type="hidden" name="_csrf" value=${props.csrf} />
        <${TextField}
          id="label"
          label="Naam van de sleutel"
          description="Bijvoorbeeld de computer of de controle waarvoor u hem gebruikt."
          error=${props.errors?.label}
        >
          <${LabelInput} value=${props.values?.label} error=${props.errors?.label} />
          <//>
          <${TextField}
            id="days"
            label="Aantal dagen geldig"
            description=${`Hoogstens ${props.maxDays} dagen. Daarna werkt de sleutel niet meer en maakt u een nieuwe.`}
            error=${props.errors?.days}
          >
            <input
              class=${textboxClass(props.errors?.days)}
              id="days"
              name="days"
              type="number"
              inputmode="numeric"
              required
              min="1"
              max=${String(props.maxDays)}
              value=${props.values?.days ?? String(props.defaultDays)}
              aria-describedby=${describedBy("days", props.errors?.days)}
              aria-invalid=${props.errors?.days ? "true" : undefined}
            />
            <//>
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
          Sleutel maken
        </button>
            </form>
            </section>
  `;
}

function Usage(props: { cloneUrl: string }): VNode {
  return html`
    <section aria-labelledby="gebruik-titel">
      <h2 class="utrecht-heading-2" id="gebruik-titel">Zo gebruikt u een sleutel</h2>
      <pre class="utrecht-code-block"><code>git clone ${props.cloneUrl}</code></pre>
      <p class="utrecht-paragraph">
        Git vraagt om een gebruikersnaam en een wachtwoord: vul als gebruikersnaam in wat u wilt en
        plak de sleutel als wachtwoord. Met dezelfde sleutel haalt u later met
        ${" "}<code class="utrecht-code">git pull</code> de nieuwe gebeurtenissen op. Hoe u de
        handtekeningen controleert, staat in de README van Akkoord onder "Verifying the history".
      </p>
    </section>
  `;
}
