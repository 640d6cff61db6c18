/**
 * The supplier's offer form walked as a browser without JavaScript would:
 * log in, post the multipart form, preview and then offer.
 */
import assert from "node:assert/strict";
import { BOARD, SUPPLIER } from "./board_flow.ts";
import { Browser, type TestService } from "./service.ts";

/** The offer form of {@link SUPPLIER}; its preview is at `${OFFER}/preview`. */
export const OFFER = `/suppliers/${SUPPLIER}/offer`;

/** The value of one field of the offer form: text, repeated text, or an uploaded file. */
export type OfferField = string | string[] | File;

/** The supplier's person, logged in through the development broker, with a CSRF token. */
export async function supplierUser(service: TestService, kvk = SUPPLIER): Promise<Browser> {
  const browser = new Browser(service.url);
  const landed = await browser.login({ organisation: kvk, name: "Sam Leverancier", mandates: [] });
  assert.equal(landed.status, 303);
  await landed.body?.cancel();
  const form = await browser.page(`/suppliers/${kvk}/offer`);
  assert.equal(form.status, 200);
  return browser;
}

/** POSTs a multipart form as the offer page does: with the page's CSRF token and Origin. */
export async function postForm(
  service: TestService,
  browser: Browser,
  path: string,
  fields: Record<string, OfferField>,
  options: { csrf?: string | null; origin?: string } = {},
): Promise<{ status: number; html: string }> {
  const form = new FormData();
  const csrf = options.csrf === undefined ? browser.csrf : options.csrf;
  if (csrf !== null) form.append("_csrf", csrf);
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, item);
  }
  const response = await browser.request(path, {
    method: "POST",
    body: form,
    headers: { Origin: options.origin ?? service.url },
  });
  return { status: response.status, html: await response.text() };
}

/** The fingerprint a preview page carries in its hidden field. */
export function fingerprintOf(html: string): string {
  const fingerprint = /name="fingerprint" value="([0-9a-f]{64})"/.exec(html)?.[1];
  assert.ok(fingerprint, "the preview carries its fingerprint");
  return fingerprint;
}

/** Previews and then offers the fields, as a person pressing "Aanbieden" after the preview. */
export async function previewAndOffer(
  service: TestService,
  browser: Browser,
  fields: Record<string, OfferField>,
): Promise<{ preview: string; result: { status: number; html: string } }> {
  const preview = await postForm(service, browser, `${OFFER}/preview`, fields);
  assert.equal(preview.status, 200, preview.html.slice(0, 2000));
  const fingerprint = fingerprintOf(preview.html);
  const result = await postForm(service, browser, OFFER, { ...fields, fingerprint });
  return { preview: preview.html, result };
}

/**
 * The form's fields for a whole version to {@link BOARD}, titled "Test", with
 * the text and the first privacybijsluiter of `sample` pasted in.
 */
export function pastedFields(
  sample: { text: string; products: unknown[] },
): Record<string, string> {
  return {
    mode: "full",
    title: "Test",
    text: sample.text,
    products: JSON.stringify(sample.products[0]),
    scope: "chosen",
    boards: BOARD.id,
  };
}
