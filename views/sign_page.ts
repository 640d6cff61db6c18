import type { VNode } from "preact";
import type { AgreementStatus, Board, Supplier } from "../domain/state.ts";
import { agreementPath } from "./agreement_paths.ts";
import { html } from "./html.ts";
import { Layout, type PageUser } from "./layout.ts";
import { VersionFacts } from "./version_facts.ts";
import { VersionFields } from "./version_fields.ts";

/** Props of {@link SignPage}. */
export interface SignPageProps {
  board: Board;
  supplier: Supplier;
  status: AgreementStatus;
  csrf: string;
  user: PageUser;
  /** Form errors by field name, for example `confirm`. */
  errors?: Record<string, string>;
}

/** The explicit confirmation before a signatory signs one exact version. */
export function SignPage(props: SignPageProps): VNode {
  const { board, supplier, status } = props;
  const version = status.current.version;
  const error = props.errors?.confirm;
  return html`
    <${Layout} title=${`Ondertekenen: ${supplier.name}`} user=${props.user} csrf=${props.csrf}>
      <p class="akkoord-pre-heading">Verwerkersovereenkomst van ${board.name}</p>
      <h1 class="utrecht-heading-1">Versie ${version} ondertekenen</h1>
      <p class="utrecht-paragraph utrecht-paragraph--lead">
        U ondertekent versie ${version} van de verwerkersovereenkomst met ${supplier.name} namens
        ${" "}${board.name}.
      </p>
      <p class="utrecht-paragraph">
        Uw handtekening geldt alleen voor precies deze inhoud. Verandert de leverancier intussen
        iets, dan wordt uw ondertekening geweigerd en ziet u de nieuwe versie eerst.
      </p>
      <${VersionFacts} status=${status} />
      <form method="post" action=${agreementPath(
        board.id,
        supplier.id,
        "sign",
      )} class="utrecht-form">
        <${VersionFields} csrf=${props.csrf} version=${status.current} />
        <div class=${`utrecht-form-field utrecht-form-field--checkbox${
          error ? " utrecht-form-field--invalid" : ""
        }`}>
          ${error
            ? html`
              <div class="utrecht-form-field__error-message utrecht-form-field-error-message" id="confirm-error">
                ${error}
              </div>
            `
            : null}
          <div class="utrecht-form-field__input">
            <input
              type="checkbox"
              class="utrecht-checkbox utrecht-checkbox--html-input utrecht-checkbox--custom"
              id="confirm"
              name="confirm"
              value="ja"
              required
              aria-describedby=${error ? "confirm-error" : undefined}
              aria-invalid=${error ? "true" : undefined}
            />
          </div>
          <div class="utrecht-form-field__label utrecht-form-field__label--checkbox">
            <label class="utrecht-form-label utrecht-form-label--checkbox" for="confirm">
              Ik heb versie ${version} gelezen en onderteken haar namens ${board.name}
            </label>
          </div>
        </div>
        <div class="utrecht-button-group akkoord-actions">
          <button type="submit" class="utrecht-button utrecht-button--primary-action">
            Onderteken versie ${version}
          </button>
          <a class="utrecht-link utrecht-link--html-a" href=${agreementPath(board.id, supplier.id)}>
            Annuleren en terug naar de overeenkomst
          </a>
        </div>
      </form>
      <//>
  `;
}
