import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../../config.ts";
import { TERMS_VERSION } from "../../domain/registry.ts";
import {
  Browser,
  sampleOffer,
  startTestService,
  supplierToken,
  type TestService,
} from "./service.ts";
import { historyHead } from "./test_store.ts";

/** The first demo supplier, which the flows offer as. */
export const SUPPLIER = "99000001";
/** A demo board without demo offers: Stichting Van Hall Larenstein. */
export const BOARD = { id: "41344", kvk: "01087061" };
/** Another demo board. */
export const OTHER_BOARD = { id: "13603", kvk: "01082181" };

/** The form fields that name one version, as the pages post them. */
export interface ShownVersion extends Record<string, string> {
  version: string;
  oid: string;
  contentSha256: string;
}

/** Runs `fn` against a fresh service and closes it afterwards. */
export async function withService(fn: (service: TestService) => Promise<void>): Promise<void> {
  const service = await startTestService();
  try {
    await fn(service);
  } finally {
    await service.close();
  }
}

/** POSTs an offer through the supplier API as {@link SUPPLIER}. */
export async function offer(
  service: TestService,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(`${service.url}/api/v1/offers`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}`,
      "Content-Type": "application/json",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The supplier API's status of {@link SUPPLIER}'s agreement with a board. */
export async function agreementStatus(service: TestService, board: string) {
  const response = await fetch(`${service.url}/api/v1/agreements/${board}`, {
    headers: { Authorization: `Bearer ${await supplierToken(service, SUPPLIER)}` },
  });
  assert.equal(response.status, 200);
  return await response.json();
}

/** The fields naming the current version of an agreement status. */
export function versionFields(
  status: { current: { version: number; oid: string; contentSha256: string } },
): ShownVersion {
  return {
    version: String(status.current.version),
    oid: status.current.oid,
    contentSha256: status.current.contentSha256,
  };
}

/** A person of a board, logged in through the development broker, on the board's overview. */
export async function boardUser(
  service: TestService,
  board: { id: string; kvk: string },
  mandates: Array<"beoordelen" | "ondertekenen">,
  name = "Anna de Vries",
): Promise<Browser> {
  const browser = new Browser(service.url);
  const landed = await browser.login({ organisation: board.kvk, name, mandates });
  assert.equal(landed.status, 303, "the callback redirects after login");
  await browser.page(`/boards/${board.id}`);
  return browser;
}

/** An administrator of the operator, logged in through the development broker, on `page`. */
export async function adminUser(
  service: TestService,
  page: string,
  name = "Ada Beheer",
): Promise<Browser> {
  const browser = new Browser(service.url);
  const landed = await browser.login({
    organisation: DEMO_OPERATOR_KVK,
    name,
    mandates: ["beheer"],
  });
  assert.equal(landed.status, 303);
  await landed.body?.cancel();
  assert.equal((await browser.page(page)).status, 200);
  return browser;
}

/**
 * People who are no administrators, each logged in on their own home page: a
 * board's reviewer and signatory, a supplier's employee and an auditor.
 */
export async function nonAdmins(
  service: TestService,
): Promise<{ person: Browser; supplier: Browser; auditor: Browser }> {
  const person = await boardUser(service, BOARD, ["beoordelen", "ondertekenen"]);
  const supplier = new Browser(service.url);
  await (await supplier.login({ organisation: SUPPLIER, name: "Sam", mandates: [] })).body
    ?.cancel();
  await supplier.page(`/suppliers/${SUPPLIER}`);
  const auditor = new Browser(service.url);
  await (await auditor.login({
    organisation: DEMO_OPERATOR_KVK,
    name: "Otto Controle",
    mandates: ["auditor"],
  })).body?.cancel();
  await auditor.page("/tokens");
  return { person, supplier, auditor };
}

/** The fields the overview's terms form posts when its checkbox is ticked. */
export const TERMS_FORM = { accept: "ja", termsVersion: TERMS_VERSION } as const;

/** Accepts the terms of use for a board through its overview's form. */
export async function acceptTerms(browser: Browser, board: string): Promise<void> {
  const response = await browser.submit(`/boards/${board}/terms`, TERMS_FORM);
  assert.equal(response.status, 303);
}

/**
 * The common start of a board flow: the sample is offered to {@link BOARD},
 * a person with `mandates` logs in and accepts the terms of use.
 */
export async function offeredToBoard(
  service: TestService,
  mandates: Array<"beoordelen" | "ondertekenen">,
): Promise<{ user: Browser; shown: ShownVersion }> {
  assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
  const user = await boardUser(service, BOARD, mandates);
  await acceptTerms(user, BOARD.id);
  return { user, shown: versionFields(await agreementStatus(service, BOARD.id)) };
}

/** The page path of {@link SUPPLIER}'s agreement with a board, or one of its actions. */
export function agreementPath(board: string, action = ""): string {
  return `/boards/${board}/agreements/${SUPPLIER}${action ? `/${action}` : ""}`;
}

/** The oid `refs/heads/main` points at in a service's history, on either backend. */
export async function headOf(service: TestService): Promise<string> {
  const head = await historyHead(service.dir);
  if (head === null) throw new Error(`The history in "${service.dir}" has no commit yet`);
  return head;
}
