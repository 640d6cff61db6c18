import type { VNode } from "preact";
import type { VersionRef } from "../domain/state.ts";
import { html } from "./html.ts";

/**
 * The hidden fields every decision form posts: the CSRF token and the exact
 * version the person saw, so the service can refuse a decision on content
 * that changed meanwhile.
 */
export function VersionFields(props: { csrf: string; version: VersionRef }): VNode {
  return html`
    <div hidden>
      <input type="hidden" name="_csrf" value=${props.csrf} />
      <input type="hidden" name="version" value=${String(props.version.version)} />
      <input type="hidden" name="oid" value=${props.version.oid} />
      <input type="hidden" name="contentSha256" value=${props.version.contentSha256} />
    </div>
  `;
}
