import assert from "node:assert/strict";
import { BOARD, withService } from "./helpers/board_flow.ts";
import { Browser, type TestService } from "./helpers/service.ts";

/** Logs in through the development broker from `/login?next=…`; the callback's answer. */
async function loginFrom(service: TestService, next: string): Promise<Response> {
  const browser = new Browser(service.url);
  const start = await browser.request(`/login?next=${next}`);
  assert.ok(start.headers.has("Location"), `login with next=${next} goes to the broker`);
  const authorize = new URL(start.headers.get("Location")!, service.url);
  await (await browser.request(authorize.pathname + authorize.search)).body?.cancel();
  const form = new URLSearchParams(authorize.searchParams);
  form.set("organisation", BOARD.kvk);
  form.set("name", "Anna de Vries");
  form.set("assurance", "loa3");
  form.append("mandate", "beoordelen");
  const granted = await browser.request(authorize.pathname, { method: "POST", body: form });
  const callback = new URL(granted.headers.get("Location")!, service.url);
  return await browser.request(callback.pathname + callback.search);
}

Deno.test("login sends people only to a plain path on this site", () =>
  withService(async (service) => {
    const refused = [
      "/%09/evil.example",
      "/%0d%0aSet-Cookie:x",
      "/%0aevil",
      "//evil.example",
      "/%5C%5Cevil.example",
      "/%5Cevil.example",
      "https://evil.example/",
      "/%20/evil.example",
      "/boards/%250d%250aX",
      "/a//evil.example",
    ];
    for (const next of refused) {
      const landed = await loginFrom(service, next);
      assert.equal(landed.status, 303, next);
      assert.equal(landed.headers.get("Location"), "/", next);
      assert.ok(landed.headers.getSetCookie().length > 0, `${next}: the session cookie is sent`);
      await landed.body?.cancel();
    }

    const normal = await loginFrom(service, `/boards/${BOARD.id}`);
    assert.equal(normal.status, 303);
    assert.equal(normal.headers.get("Location"), `/boards/${BOARD.id}`);
    await normal.body?.cancel();
    const query = await loginFrom(service, encodeURIComponent(`/boards/${BOARD.id}?x=1#a`));
    assert.equal(query.headers.get("Location"), `/boards/${BOARD.id}?x=1#a`);
    await query.body?.cancel();
  }));
