import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  type AxeViolation,
  axeViolations,
  describeViolations,
  launchChromium,
  screenshot,
  watchProblems,
} from "./helpers/browser.ts";
import {
  sampleOffer,
  startTestService,
  supplierToken,
  type TestService,
} from "./helpers/service.ts";

const SUPPLIER = { kvk: "99000001", name: "Schoolwijzer Demo B.V." };
const BOARD = { id: "41344", kvk: "01087061", name: "Stichting Van Hall Larenstein" };
const AGREEMENT_PATH = `/boards/${BOARD.id}/agreements/${SUPPLIER.kvk}`;

interface CurrentVersion {
  version: number;
  oid: string;
  contentSha256: string;
}

async function agreementStatus(
  service: TestService,
): Promise<{ state: string; current: CurrentVersion; inForce?: { oid: string } }> {
  const response = await fetch(`${service.url}/api/v1/agreements/${BOARD.id}`, {
    headers: { Authorization: `Bearer ${await supplierToken(service, SUPPLIER.kvk)}` },
  });
  assert.equal(response.status, 200);
  return await response.json();
}

async function offerToBoard(service: TestService): Promise<void> {
  const response = await fetch(`${service.url}/api/v1/offers`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${await supplierToken(service, SUPPLIER.kvk)}`,
      "Content-Type": "application/json",
    },
    body: JSON.stringify(await sampleOffer([BOARD.id])),
  });
  assert.equal(response.status, 201, await response.text());
}

/** Clicks "Inloggen met eHerkenning" and fills in the development broker's form. */
async function logIn(
  page: Page,
  name: string,
  mandate: "beoordelen" | "ondertekenen",
  atBroker: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  await page.getByRole("link", { name: "Inloggen met eHerkenning" }).click();
  await page.waitForURL(/\/dev-broker\/authorize\?/);
  await atBroker();
  await page.getByLabel("Organisatie").selectOption(BOARD.kvk);
  await page.getByLabel("Uw naam").fill(name);
  for (const box of ["beoordelen", "ondertekenen", "beheer"]) {
    await page.locator(`#mandate-${box}`).setChecked(box === mandate);
  }
  await page.getByRole("button", { name: "Inloggen" }).click();
  await page.waitForURL(new RegExp(`/boards/${BOARD.id}$`));
  await page.getByRole("heading", { level: 1, name: BOARD.name }).waitFor();
  assert.match(await page.locator(".akkoord-user").innerText(), new RegExp(name));
}

/** Presses Tab from the top of the page until the named button has focus. */
async function tabTo(page: Page, buttonText: string): Promise<number> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let presses = 1; presses <= 40; presses++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      return element ? `${element.tagName} ${element.textContent?.trim()}` : "";
    });
    if (presses === 1) assert.equal(focused, "A Direct naar de inhoud", "the skip link is first");
    if (focused === `BUTTON ${buttonText}`) return presses;
  }
  throw new Error(`Could not reach the button "${buttonText}" with 40 presses of Tab`);
}

/**
 * Opens the URL in a fresh context with the same cookies that bypasses the
 * Content-Security-Policy (it forbids the inline axe script) and runs axe.
 */
async function audit(
  browser: Browser,
  flow: BrowserContext,
  url: string,
  expectedStatus = 200,
): Promise<AxeViolation[]> {
  const context = await browser.newContext({
    bypassCSP: true,
    locale: "nl-NL",
    storageState: await flow.storageState(),
  });
  try {
    const page = await context.newPage();
    const response = await page.goto(url);
    assert.equal(response?.status(), expectedStatus, `status of ${url} for axe`);
    return await axeViolations(page);
  } finally {
    await context.close();
  }
}

Deno.test("in Chromium: a reviewer approves and a signatory signs, pages pass axe-core", async () => {
  const started = performance.now();
  const service = await startTestService();
  let browser: Browser | undefined;
  try {
    await offerToBoard(service);
    const shown = (await agreementStatus(service)).current;

    const chromium = await launchChromium();
    browser = chromium;
    const context = await chromium.newContext({
      locale: "nl-NL",
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const problems = watchProblems(page);
    const violations: Record<string, AxeViolation[]> = {};
    const record = async (name: string, expectedStatus = 200): Promise<void> => {
      await screenshot(page, name);
      violations[name] = await audit(chromium, context, page.url(), expectedStatus);
    };

    await page.goto(`${service.url}/`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await record("01_home");

    await logIn(page, "Anna de Vries", "beoordelen", () => record("02_broker"));
    const terms = page.getByRole("heading", { name: "Gebruiksvoorwaarden nog niet aanvaard" });
    assert.equal(await terms.count(), 1, "the terms of use are asked first");
    await record("03_overview_terms");
    await page.getByLabel(/Ik aanvaard de gebruiksvoorwaarden namens/).check();
    await page.getByRole("button", { name: "Gebruiksvoorwaarden aanvaarden" }).click();
    await terms.waitFor({ state: "detached" });

    await page.getByRole("link", { name: SUPPLIER.name }).click();
    await page.waitForURL(new RegExp(`${AGREEMENT_PATH}$`));
    const title = page.getByRole("heading", { level: 1 });
    assert.match(await title.innerText(), /aangeboden/);
    assert.ok((await page.content()).includes(shown.contentSha256));
    await record("04_agreement_review");

    const presses = await tabTo(page, "Goedkeuren");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: /goedgekeurd/ }).waitFor();
    assert.ok(presses <= 12, `the approve button is ${presses} presses of Tab deep`);
    assert.equal(await page.getByRole("button", { name: "Goedkeuren" }).count(), 0);
    assert.equal((await agreementStatus(service)).state, "approved");

    await page.getByRole("button", { name: "Uitloggen" }).click();
    await page.waitForURL(`${service.url}/`);
    await page.getByRole("link", { name: "Inloggen met eHerkenning" }).waitFor();

    await logIn(page, "Bram Jansen", "ondertekenen");
    assert.match(await page.locator("table").innerText(), /Wacht op ondertekening/);
    await page.getByRole("link", { name: SUPPLIER.name }).click();
    await page.waitForURL(new RegExp(`${AGREEMENT_PATH}$`));
    assert.equal(await page.getByRole("button", { name: "Goedkeuren" }).count(), 0);
    await record("05_agreement_sign_link");

    await page.getByRole("link", { name: "Ondertekenen", exact: true }).click();
    await page.waitForURL(new RegExp(`${AGREEMENT_PATH}/sign$`));
    const facts = await page.locator(".akkoord-facts").innerText();
    assert.match(facts, new RegExp(`Versie\\s+${shown.version}\\b`));
    assert.ok(facts.includes(shown.contentSha256), "the sign page shows the content SHA-256");
    assert.ok(facts.includes(shown.oid), "the sign page shows the oid");
    await record("06_sign");
    await page.getByLabel(`Ik heb versie ${shown.version} gelezen`, { exact: false }).check();
    await page.getByRole("button", { name: `Onderteken versie ${shown.version}` }).click();
    await page.waitForURL(new RegExp(`${AGREEMENT_PATH}$`));
    await page.getByRole("heading", { level: 1, name: /ondertekend/ }).waitFor();

    await page.getByRole("navigation", { name: "Hoofdmenu" }).getByRole("link", {
      name: "Overzicht",
    }).click();
    await page.waitForURL(new RegExp(`/boards/${BOARD.id}$`));
    const row = page.getByRole("row", { name: new RegExp(SUPPLIER.name) });
    assert.match(await row.innerText(), /ondertekend/);
    assert.match(await row.innerText(), new RegExp(`Versie ${shown.version} ondertekend op`));
    await record("07_overview_signed");
    const final = await agreementStatus(service);
    assert.equal(final.state, "signed");
    assert.equal(final.inForce?.oid, shown.oid);

    const missing = await page.goto(`${service.url}/bestaat-niet`);
    assert.equal(missing?.status(), 404);
    await page.getByRole("heading", { level: 1, name: "Niet gevonden" }).waitFor();
    await record("08_error_404", 404);

    assert.deepEqual(problems, [], "no script errors, CSP refusals or failed assets");
    assert.equal(
      Object.values(violations).flat().length,
      0,
      `axe-core found violations:\n${describeViolations(violations)}`,
    );
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 60, `the browser test took ${seconds.toFixed(1)} s`);
  } finally {
    await browser?.close();
    await service.close();
  }
});
