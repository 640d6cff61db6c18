import type { VNode } from "preact";
import type { Board } from "../domain/state.ts";
import { formatDate } from "./format.ts";
import { DoneNotice, ErrorSummary, TextArea, TextField, TextInput } from "./form_field.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";

/** An invitation the board sent earlier. */
export interface SentInvitation {
  supplierName: string;
  email: string;
  at: string;
  by: string;
}

/** The values of the invitation form. */
export interface InvitationValues {
  supplierName: string;
  email: string;
  message: string;
}

/** Props of {@link InviteSupplierPage}. */
export interface InviteSupplierPageProps {
  board: Board;
  user: PageUser;
  csrf: string;
  values: InvitationValues;
  limits: { supplierName: number; email: number; message: number };
  /** Form errors by field name: `supplierName`, `email`, `message`. */
  errors?: Record<string, string>;
  /** Why no invitation can be sent now: the board's limit per day is reached. */
  limitReached?: string;
  /** The invitation just recorded. */
  sent?: SentInvitation;
  invitations: SentInvitation[];
}

/**
 * The form with which a board person asks a supplier that still sends
 * agreements the old way to use Akkoord, with a ready-made message to edit.
 */
export function InviteSupplierPage(props: InviteSupplierPageProps): VNode {
  return html`
    <${Layout} title="Leverancier uitnodigen" user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">${props.board.name}</p>
      <h1 class="utrecht-heading-1">Leverancier uitnodigen</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        Stuurt een leverancier zijn verwerkersovereenkomst nog per e-mail of op papier? Vraag hem
        dan om haar via Akkoord aan te bieden.
      </p>
      ${props.sent
        ? html`<${DoneNotice} message=${`De uitnodiging aan ${props.sent.supplierName} (${props.sent.email}) is verstuurd.`} />`
        : null}
      ${props.limitReached ? html`<${LimitNotice} message=${props.limitReached} />` : null}
      <${ErrorSummary} title="De uitnodiging is niet verstuurd." errors=${props.errors} />
      <${InviteForm} ...${props} />
      <${SentList} invitations=${props.invitations} />
      <p class="utrecht-paragraph">
        <a class="utrecht-link utrecht-link--html-a" href=${`/boards/${
          encodeURIComponent(props.board.id)
        }`}>Terug naar het overzicht</a>
      </p>
    <//>
  `;
}

function InviteForm(props: InviteSupplierPageProps): VNode {
  const errors = props.errors ?? {};
  return html`
    <form method="post" action=${`/boards/${
      encodeURIComponent(props.board.id)
    }/invite`} class="utrecht-form akkoord-decision">
      <input type="hidden" name="_csrf" value=${props.csrf} />
      <${TextField}
        id="supplierName"
        label="Naam van de leverancier"
        description="De naam van het bedrijf, zoals u het kent."
        error=${errors.supplierName}
      >
        <${TextInput}
          id="supplierName"
          required
          maxLength=${props.limits.supplierName}
          autocomplete="organization"
          value=${props.values.supplierName}
          error=${errors.supplierName}
        />
        <//>
        <${TextField}
          id="email"
          label="E-mailadres van de leverancier"
          description="Bijvoorbeeld het adres van uw contactpersoon of van de privacy-afdeling."
          error=${errors.email}
        >
          <${TextInput}
            id="email"
            type="email"
            required
            maxLength=${props.limits.email}
            autocomplete="email"
            value=${props.values.email}
            error=${errors.email}
          />
          <//>
          <${TextField}
            id="message"
            label="Bericht"
            description="Pas het bericht gerust aan. Akkoord zet er een aanhef boven en vermeldt dat u het namens uw bestuur stuurt."
            error=${errors.message}
          >
            <${TextArea}
              id="message"
              rows=${12}
              required
              maxLength=${props.limits.message}
              value=${props.values.message}
              error=${errors.message}
            />
            <//>
            <button type="submit" class="utrecht-button utrecht-button--primary-action">
              Uitnodiging versturen
            </button>
            </form>
  `;
}

function LimitNotice(props: { message: string }): VNode {
  return html`
    <div class="utrecht-alert utrecht-alert--error akkoord-alert" role="alert">
      <div class="utrecht-alert__content">
        <div class="utrecht-alert__message">
          <p class="utrecht-paragraph"><strong>De uitnodiging is niet verstuurd.</strong></p>
          <p class="utrecht-paragraph">${props.message}</p>
        </div>
      </div>
    </div>
  `;
}

function SentList(props: { invitations: SentInvitation[] }): VNode | null {
  if (props.invitations.length === 0) return null;
  return html`
    <section aria-labelledby="verstuurd-titel">
      <h2 class="utrecht-heading-2" id="verstuurd-titel">Eerder uitgenodigd</h2>
      <ul class="utrecht-unordered-list">
        ${props.invitations.map((invitation) =>
          html`
            <li class="utrecht-unordered-list__item">
              ${invitation.supplierName} (${invitation.email}), op ${formatDate(invitation.at)} door
              ${" "}${invitation.by}
            </li>
          `
        )}
      </ul>
    </section>
  `;
}
