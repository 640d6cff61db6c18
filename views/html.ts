import { h, type VNode } from "preact";
import htmModule from "htm";

interface Htm {
  bind<R>(
    factory: (type: unknown, props: Record<string, unknown>, ...children: unknown[]) => R,
  ): (strings: TemplateStringsArray, ...values: unknown[]) => R | R[];
}

// htm's declaration file is read as CommonJS, so its default export is typed
// as the module namespace although at run time it is the htm function itself.
const htm = htmModule as unknown as Htm;
const bound = htm.bind(h as (type: unknown, props: Record<string, unknown>) => VNode);

/**
 * The htm tagged template bound to Preact's `h`. Every template in views/ has
 * exactly one root element, so the result is typed as a single VNode.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): VNode {
  return bound(strings, ...values) as VNode;
}
