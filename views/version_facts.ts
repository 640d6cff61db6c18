import type { VNode } from "preact";
import type { AgreementStatus } from "../domain/state.ts";
import { formatDate } from "./format.ts";
import { html } from "./html.ts";

/** "Versie 2 ondertekend op 3 december 2026", or null when no version is in force. */
export function inForceText(status: AgreementStatus): string | null {
  const inForce = status.inForce;
  if (inForce === undefined) return null;
  return `Versie ${inForce.version} ondertekend op ${formatDate(inForce.signedAt)}`;
}

/** The facts that name the current version exactly: number, date, oid and SHA-256. */
export function VersionFacts(props: { status: AgreementStatus }): VNode {
  const current = props.status.current;
  return html`
    <dl class="akkoord-facts">
      <div class="akkoord-facts__item">
        <dt>Titel</dt>
        <dd>${current.title}</dd>
      </div>
      <div class="akkoord-facts__item">
        <dt>Versie</dt>
        <dd>${current.version}</dd>
      </div>
      <div class="akkoord-facts__item">
        <dt>Aangeboden op</dt>
        <dd>${formatDate(current.offeredAt)}</dd>
      </div>
      <div class="akkoord-facts__item">
        <dt>Git-object (oid)</dt>
        <dd><code class="utrecht-code akkoord-hash">${current.oid}</code></dd>
      </div>
      <div class="akkoord-facts__item">
        <dt>SHA-256 van de inhoud</dt>
        <dd><code class="utrecht-code akkoord-hash">${current.contentSha256}</code></dd>
      </div>
      <div class="akkoord-facts__item">
        <dt>Van kracht</dt>
        <dd>${inForceText(props.status) ?? "Nog geen ondertekende versie"}</dd>
      </div>
    </dl>
  `;
}
