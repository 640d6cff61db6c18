import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import {
  agreementPath,
  BOARD,
  offeredToBoard,
  SUPPLIER,
  withService,
} from "./helpers/board_flow.ts";
import { Browser, sampleOffer, type TestService } from "./helpers/service.ts";

type Who = "board" | "supplier" | "admin";

/** Each page route of the app and where a logged-in person opens it. */
const PAGES: Record<string, { who: Who; path: string }> = {
  "/admin": { who: "admin", path: "/admin" },
  "/admin/compare": {
    who: "admin",
    path: `/admin/compare?board=${BOARD.id}&supplier=${SUPPLIER}`,
  },
  "/admin/mail": { who: "admin", path: "/admin/mail" },
  "/admin/besturen": { who: "admin", path: "/admin/besturen" },
  "/admin/leveranciers": { who: "admin", path: "/admin/leveranciers" },
  "/tokens": { who: "admin", path: "/tokens" },
  "/boards/:board": { who: "board", path: `/boards/${BOARD.id}` },
  "/boards/:board/agreements/:supplier": { who: "board", path: agreementPath(BOARD.id) },
  "/boards/:board/agreements/:supplier/compare": {
    who: "board",
    path: agreementPath(BOARD.id, "compare"),
  },
  "/boards/:board/agreements/:supplier/sign": {
    who: "board",
    path: agreementPath(BOARD.id, "sign"),
  },
  "/boards/:board/invite": { who: "board", path: `/boards/${BOARD.id}/invite` },
  "/boards/:board/notifications": { who: "board", path: `/boards/${BOARD.id}/notifications` },
  "/suppliers/:supplier": { who: "supplier", path: `/suppliers/${SUPPLIER}` },
  "/suppliers/:supplier/keys": { who: "supplier", path: `/suppliers/${SUPPLIER}/keys` },
  "/suppliers/:supplier/offer": { who: "supplier", path: `/suppliers/${SUPPLIER}/offer` },
  "/suppliers/:supplier/offer/product": {
    who: "supplier",
    path: `/suppliers/${SUPPLIER}/offer/product`,
  },
  "/suppliers/:supplier/same-text": {
    who: "supplier",
    path: `/suppliers/${SUPPLIER}/same-text`,
  },
};

/**
 * GET routes that are no page of a logged-in person's own: redirects, login,
 * files, the API, Git, the development broker, and the development outbox,
 * which shows no person at all.
 */
const NOT_PAGES = [
  /^\/$/,
  /^\/login$/,
  /^\/auth\//,
  /^\/keys$/,
  /^\/assets\//,
  /^\/\.well-known\//,
  /^\/api\//,
  /^\/history\.git\//,
  /^\/dev-broker\//,
  /^\/dev\/outbox$/,
  /\/versions\/:file/,
];

async function loggedIn(service: TestService, who: Who): Promise<Browser> {
  const browser = new Browser(service.url);
  const choice = who === "board"
    ? {
      organisation: BOARD.kvk,
      name: "Anna de Vries",
      mandates: ["beoordelen", "ondertekenen"] as const,
    }
    : who === "supplier"
    ? { organisation: SUPPLIER, name: "Sam Leverancier", mandates: [] }
    : { organisation: DEMO_OPERATOR_KVK, name: "Ada Beheer", mandates: ["beheer"] as const };
  const landed = await browser.login({ ...choice, mandates: [...choice.mandates] });
  assert.equal(landed.status, 303);
  await landed.body?.cancel();
  return browser;
}

function assertLogoutForms(html: string, where: string): void {
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, `${where} carries the session's CSRF token`);
  for (const [action, label] of [["/logout", "Uitloggen"], ["/logout/everywhere", "Afmelden"]]) {
    const form = new RegExp(
      `<form method="post" action="${action}"[^>]*><input type="hidden" name="_csrf" value="${csrf}"/><button[^>]*>${label}`,
    );
    assert.match(html, form, `${where} has the "${label}" form`);
  }
}

Deno.test("every page of a logged-in person has the logout and log-out-everywhere forms", () =>
  withService(async (service) => {
    const { user, shown } = await offeredToBoard(service, ["beoordelen", "ondertekenen"]);
    assert.equal((await user.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
    const browsers: Record<Who, Browser> = {
      board: await loggedIn(service, "board"),
      supplier: await loggedIn(service, "supplier"),
      admin: await loggedIn(service, "admin"),
    };

    const pages = service.server.routes
      .filter((route) => route.method === "GET")
      .map((route) => route.path)
      .filter((path) => !NOT_PAGES.some((pattern) => pattern.test(path)));
    assert.deepEqual(
      pages.filter((path) => !(path in PAGES)),
      [],
      "every page route is listed in PAGES",
    );
    for (const route of pages) {
      const { who, path } = PAGES[route]!;
      const page = await browsers[who].page(path);
      assert.equal(page.status, 200, `${path} as ${who}`);
      assertLogoutForms(page.html, `${path} as ${who}`);
    }

    const missing = await browsers.supplier.page(`/suppliers/${SUPPLIER}/nergens`);
    assert.equal(missing.status, 404);
    assertLogoutForms(missing.html, "the 404 page");

    const supplier = browsers.supplier;
    const sample = await sampleOffer([BOARD.id]);
    const form = new FormData();
    for (
      const [name, value] of Object.entries({
        _csrf: supplier.csrf,
        mode: "full",
        title: "Uitloggen overal",
        text: sample.text.replace("24 uur", "6 uur"),
        products: JSON.stringify(sample.products),
        scope: "chosen",
        boards: BOARD.id,
      })
    ) form.append(name, value);
    const preview = await supplier.request(`/suppliers/${SUPPLIER}/offer/preview`, {
      method: "POST",
      body: form,
      headers: { Origin: service.url },
    });
    assert.equal(preview.status, 200);
    assertLogoutForms(await preview.text(), "the offer preview");
  }));
