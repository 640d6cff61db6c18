import type { VNode } from "preact";
import type { AgreementState } from "../domain/state.ts";
import { html } from "./html.ts";
import { STATE_BADGES, STATE_LABELS } from "./labels.ts";

/** A coloured badge with the Dutch name of an agreement state. */
export function StatusBadge(props: { state: AgreementState }): VNode {
  const variant = STATE_BADGES[props.state];
  return html`
    <span class="utrecht-status-badge utrecht-status-badge--${variant} akkoord-badge">
      ${STATE_LABELS[props.state]}
    </span>
  `;
}
