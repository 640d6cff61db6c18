import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** The Debian package's Chromium; Playwright never downloads a browser here. */
const CHROMIUM = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const AXE_SOURCE = new URL("../../node_modules/axe-core/axe.min.js", import.meta.url);

/** Where screenshots go; the folder is gitignored. */
export const SCREENS_DIR = new URL("../../.tmp/screens/", import.meta.url);

/** Starts headless Chromium from /usr/bin/chromium. */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** One axe-core rule a page breaks, with the elements that break it. */
export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

let axeSource: string | undefined;

/**
 * Injects axe-core into the page with a script tag and runs all its default
 * rules on the whole document. The page's context must bypass the service's
 * Content-Security-Policy, which forbids inline scripts.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await Deno.readTextFile(AXE_SOURCE);
  await page.addScriptTag({ content: axeSource });
  return await page.evaluate(async () => {
    interface Result {
      id: string;
      impact?: string | null;
      help: string;
      nodes: Array<{ target: unknown[] }>;
    }
    const axe = (globalThis as unknown as {
      axe: { run(): Promise<{ violations: Result[] }> };
    }).axe;
    const results = await axe.run();
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? "unknown",
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.map(String).join(" ")),
    }));
  });
}

/** Violations per page as readable lines for an assertion message. */
export function describeViolations(byPage: Record<string, AxeViolation[]>): string {
  return Object.entries(byPage)
    .filter(([, violations]) => violations.length > 0)
    .map(([name, violations]) =>
      `${name}:\n` +
      violations.map((v) =>
        `  ${v.id} (${v.impact}): ${v.help}\n` + v.targets.map((t) => `    - ${t}`).join("\n")
      ).join("\n")
    )
    .join("\n");
}

/**
 * Signs the Chromium context in as the person a test's own browser (see
 * tests/helpers/service.ts) is logged in as: its cookies are replaced by that
 * browser's session cookie for the service at `url`.
 */
export async function useSession(
  context: BrowserContext,
  person: { cookie(name: string): string | undefined },
  url: string,
): Promise<void> {
  await context.clearCookies();
  await context.addCookies([{
    name: "akkoord_session",
    value: person.cookie("akkoord_session")!,
    url,
  }]);
}

/** Saves a full-page PNG of the page as `.tmp/screens/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SCREENS_DIR).pathname, fullPage: true });
}

/**
 * Collects what a working page must not produce: script errors, console
 * errors about the Content-Security-Policy, and stylesheets, scripts, images
 * or fonts that failed to load.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      problems.push(`CSP on ${page.url()}: ${message.text()}`);
    }
  });
  page.on("requestfailed", (request) => {
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  page.on("response", (response) => {
    const kind = response.request().resourceType();
    const subresource = ["stylesheet", "script", "image", "font"].includes(kind);
    if (subresource && response.status() >= 400) {
      problems.push(`${kind} ${response.url()} answered ${response.status()}`);
    }
  });
  return problems;
}
