import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";

/** Renders a whole page (a Layout VNode) to an HTML document string. */
export function renderPage(vnode: VNode): string {
  return "<!doctype html>" + renderToString(vnode);
}
