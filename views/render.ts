import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { revealHiddenCharacters } from "../domain/plain_text.ts";

/**
 * Renders a whole page (a Layout VNode) to an HTML document string. A
 * direction control or invisible character in it, as stored text accepted
 * before they were refused may hold, is written out as `[U+202E]` instead
 * of acting on the text around it.
 */
export function renderPage(vnode: VNode): string {
  return revealHiddenCharacters("<!doctype html>" + renderToString(vnode));
}
