import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import { apiKeyPath } from "../domain/paths.ts";
import {
  agreementPath,
  agreementStatus,
  BOARD,
  headOf,
  offer,
  offeredToBoard,
  SUPPLIER,
  withService,
} from "./helpers/board_flow.ts";
import { git } from "./helpers/git.ts";
import { Browser, sampleOffer } from "./helpers/service.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const RLO = "\u202E";
const ZERO_WIDTH_SPACE = "\u200B";

async function problemPointers(response: Response): Promise<string[]> {
  assert.equal(response.status, 422);
  const problem = await response.json();
  return problem.errors.map((error: { pointer: string }) => error.pointer);
}

Deno.test("an offer with an invisible title or an agreement text without visible content is refused", () =>
  withService(async (service) => {
    const before = await headOf(service);
    const invisibleTitle = await sampleOffer([BOARD.id], ZERO_WIDTH_SPACE);
    assert.deepEqual(await problemPointers(await offer(service, invisibleTitle)), ["/title"]);
    const controlsOnly = await sampleOffer([BOARD.id], `\u2066${ZERO_WIDTH_SPACE} \uFEFF\u2069`);
    assert.deepEqual(await problemPointers(await offer(service, controlsOnly)), ["/title"]);
    const blankText = { ...await sampleOffer([BOARD.id]), text: `   \n${ZERO_WIDTH_SPACE}\n` };
    assert.deepEqual(await problemPointers(await offer(service, blankText)), ["/text"]);
    assert.equal(await headOf(service), before, "nothing was offered");

    const accepted = await offer(service, await sampleOffer([BOARD.id], `Overeenkomst${RLO} 2026`));
    assert.equal(accepted.status, 201);
    await accepted.body?.cancel();
  }));

Deno.test("a reject reason of zero-width characters counts as no reason", () =>
  withService(async (service) => {
    const { user, shown } = await offeredToBoard(service, ["beoordelen"]);
    const before = await headOf(service);
    const response = await user.submit(agreementPath(BOARD.id, "reject"), {
      ...shown,
      reason: ZERO_WIDTH_SPACE.repeat(2),
    });
    assert.equal(response.status, 422);
    const html = await response.text();
    assert.match(html, /id="reason-error"[^>]*>\s*Geef aan waarom u deze versie afwijst\./);
    assert.equal(await headOf(service), before);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "offered");
  }));

Deno.test("a reject reason loses its direction controls but keeps its text", () =>
  withService(async (service) => {
    const { user, shown } = await offeredToBoard(service, ["beoordelen"]);
    const response = await user.submit(agreementPath(BOARD.id, "reject"), {
      ...shown,
      reason: `Artikel 9 ${RLO}is onduidelijk\u2069.`,
    });
    assert.equal(response.status, 303);
    await response.body?.cancel();
    const status = await agreementStatus(service, BOARD.id);
    assert.equal(status.history.at(-1).reason, "Artikel 9 is onduidelijk.");
  }));

Deno.test("an access token label is stored and shown without direction controls", () =>
  withService(async (service) => {
    const auditor = new Browser(service.url);
    const landed = await auditor.login({
      organisation: DEMO_OPERATOR_KVK,
      name: "Otto Controle",
      mandates: ["auditor"],
    });
    assert.equal(landed.status, 303);
    assert.equal((await auditor.page("/tokens")).status, 200);
    const created = await auditor.submit("/tokens", { label: `laptop${RLO}kaameg`, days: "30" });
    assert.equal(created.status, 200);
    assert.ok(!(await created.text()).includes(RLO));
    const listed = await auditor.page("/tokens");
    assert.match(listed.html, /laptopkaameg/);
    assert.ok(!listed.html.includes(RLO));

    const invisible = await auditor.submit("/tokens", { label: ZERO_WIDTH_SPACE, days: "30" });
    assert.equal(invisible.status, 422);
    assert.match(await invisible.text(), /Geef de sleutel een naam\./);
  }));

Deno.test("an API key label is stored and shown without direction controls", () =>
  withService(async (service) => {
    const person = new Browser(service.url);
    await (await person.login({ organisation: SUPPLIER, name: "Sanne Bakker", mandates: [] }))
      .body?.cancel();
    assert.equal((await person.page(`/suppliers/${SUPPLIER}/keys`)).status, 200);
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = JSON.stringify(await exportJWK(publicKey));
    const registered = await person.submit(`/suppliers/${SUPPLIER}/keys`, {
      label: `Server${RLO}tset`,
      jwk,
    });
    assert.equal(registered.status, 303);
    await registered.body?.cancel();
    const page = await person.page(registered.headers.get("Location")!);
    assert.match(page.html, /Servertset/);
    assert.ok(!page.html.includes(RLO));
    const thumbprint = new URL(registered.headers.get("Location")!, service.url).searchParams
      .get("geregistreerd");
    const stored = JSON.parse(
      await git([
        "--git-dir",
        await historyGitDir(service.dir),
        "show",
        `main:${apiKeyPath(SUPPLIER, thumbprint!)}`,
      ]),
    );
    assert.equal(stored.label, "Servertset");
  }));

Deno.test("a display name from the login token loses its direction controls", () =>
  withService(async (service) => {
    const person = new Browser(service.url);
    const landed = await person.login({
      organisation: BOARD.kvk,
      name: `Anna ${RLO}de Vries`,
      mandates: ["beoordelen"],
    });
    assert.equal(landed.status, 303);
    const overview = await person.page(`/boards/${BOARD.id}`);
    assert.match(overview.html, /<strong>Anna de Vries<\/strong>/);
    assert.ok(!overview.html.includes(RLO));
  }));
