import type { ComponentChildren, VNode } from "preact";
import { html } from "./html.ts";

/**
 * A container that lets a wide table scroll sideways on a narrow screen. It
 * is a named region and takes keyboard focus, so the table can be scrolled
 * with the arrow keys; `captionId` names the table's caption.
 */
export function TableScroll(props: { captionId: string; children?: ComponentChildren }): VNode {
  return html`
    <div
      class="utrecht-table-container akkoord-table-scroll"
      role="region"
      aria-labelledby=${props.captionId}
      tabindex="0"
    >
      ${props.children}
    </div>
  `;
}
