import assert from "node:assert/strict";
import type { Principal } from "../domain/actor.ts";
import { canonicalProduct, canonicalText, contentSha256, treeOid } from "../domain/content.ts";
import { offerAgreement } from "../domain/offer_agreement.ts";
import { versionDir } from "../domain/paths.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import { stateProjection } from "../domain/projection.ts";
import type { State } from "../domain/state.ts";
import { COMMITTER } from "../server.ts";
import type { Decision } from "../store/history.ts";
import { BOARD, boardUser, headOf, offer, SUPPLIER, withService } from "./helpers/board_flow.ts";
import { Browser, sampleOffer, startTestService, type TestService } from "./helpers/service.ts";
import { openTestStore } from "./helpers/test_store.ts";

const RLO = "\u202E";
const PDF = "\u202C";
const NIET = `De leverancier mag de gegevens ${RLO}NIET${PDF} verkopen.`;
const OFFER = `/suppliers/${SUPPLIER}/offer`;

type Problem = { status: number; errors?: Array<{ pointer: string; detail: string }> };

async function refusedProblem(service: TestService, body: unknown): Promise<Problem> {
  const response = await offer(service, body);
  assert.equal(response.status, 422);
  assert.match(response.headers.get("Content-Type") ?? "", /^application\/problem\+json/);
  return await response.json();
}

/** The sample offer for {@link BOARD}, changed by `change`. */
async function sampleWith(change: (sample: Awaited<ReturnType<typeof sampleOffer>>) => void) {
  const sample = await sampleOffer([BOARD.id]);
  change(sample);
  return sample;
}

function firstProduct(sample: { products: unknown[] }): Privacybijsluiter {
  return sample.products[0] as Privacybijsluiter;
}

Deno.test("the API refuses direction controls and invisible characters in the text and the privacybijsluiter", () =>
  withService(async (service) => {
    const before = await headOf(service);

    const reversed = await refusedProblem(
      service,
      await sampleWith((s) => s.text = `${s.text.trimEnd()}\n${NIET}\n`),
    );
    assert.equal(reversed.errors?.length, 1);
    assert.equal(reversed.errors?.[0]?.pointer, "/text");
    const lines = (await sampleOffer([BOARD.id])).text.trimEnd().split("\n").length;
    assert.match(
      reversed.errors?.[0]?.detail ?? "",
      new RegExp(`^Line ${lines + 1}, character 32 is U\\+202E \\(RIGHT-TO-LEFT OVERRIDE\\)`),
    );

    for (const hidden of ["\u200B", "\u2060", "\uFEFF", "\u00AD", "\u200F", "\u{E0041}"]) {
      const problem = await refusedProblem(
        service,
        await sampleWith((s) => s.text = s.text.replace("verwerker", `ver${hidden}werker`)),
      );
      const code = hidden.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      assert.deepEqual(problem.errors?.map((e) => e.pointer), ["/text"], code);
      assert.match(problem.errors?.[0]?.detail ?? "", new RegExp(`U\\+${code}`));
    }

    const subProcessor = await refusedProblem(
      service,
      await sampleWith((s) => {
        firstProduct(s).subProcessors[0]!.name = `Cloud US Inc.${RLO} .ANE`;
      }),
    );
    assert.deepEqual(subProcessor.errors?.map((e) => e.pointer), [
      "/products/0/subProcessors/0/name",
    ]);
    assert.match(subProcessor.errors?.[0]?.detail ?? "", /^Character 14 is U\+202E/);

    const purpose = await refusedProblem(
      service,
      await sampleWith((s) => {
        firstProduct(s).purposes[0] = `Leerling${"\u200D"}administratie`;
      }),
    );
    assert.deepEqual(purpose.errors?.map((e) => e.pointer), ["/products/0/purposes/0"]);
    assert.equal(await headOf(service), before, "nothing refused was stored");

    const persian = await offer(
      service,
      await sampleWith((s) => {
        firstProduct(s).product.description += " (می\u200Cخواهم)";
        s.text += "\nEmoji in een voorbeeld: 👩\u200D💻\n";
      }),
    );
    assert.equal(persian.status, 201, "a joiner between letters of a script that needs it stays");
    await persian.body?.cancel();
  }));

Deno.test("the offer form refuses a hidden character with a Dutch message naming the line and the code point", () =>
  withService(async (service) => {
    const sample = await sampleOffer([BOARD.id]);
    const supplier = new Browser(service.url);
    await supplier.login({ organisation: SUPPLIER, name: "Sam Leverancier", mandates: [] });
    await supplier.page(OFFER);
    const fields = {
      mode: "full",
      title: "Overeenkomst",
      text: `${sample.text.trimEnd()}\n${NIET}\n`,
      products: JSON.stringify(sample.products[0]),
      scope: "chosen",
      boards: BOARD.id,
      step: "preview",
    };
    const lines = sample.text.trimEnd().split("\n").length;

    const text = await supplier.submit(`${OFFER}/preview`, fields);
    const textHtml = await text.text();
    assert.equal(text.status, 422);
    assert.match(
      textHtml,
      new RegExp(`Regel ${lines + 1} bevat het onzichtbare teken U\\+202E, dat de leesrichting`),
    );
    assert.ok(!textHtml.includes(RLO), "the page shows the text without the raw control");

    const product = structuredClone(sample.products[0]) as Privacybijsluiter;
    product.subProcessors[0]!.name = `Cloud US Inc.${RLO} .ANE`;
    const annex = await supplier.submit(`${OFFER}/preview`, {
      ...fields,
      text: sample.text,
      products: JSON.stringify(product),
    });
    const annexHtml = await annex.text();
    assert.equal(annex.status, 422);
    assert.match(
      annexHtml,
      /veld &quot;subProcessors\[0\]\.name&quot; bevat het onzichtbare teken U\+202E; haal het weg/,
    );
  }));

Deno.test("stored text with a direction control from before the rule is shown marked, never raw", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-hidden-" });
  try {
    const first = await startTestService({}, dir);
    const accepted = await offer(first, await sampleOffer([BOARD.id]));
    assert.equal(accepted.status, 201);
    await accepted.body?.cancel();
    await first.close();
    await appendLegacyVersion(dir);

    const service = await startTestService({}, dir);
    try {
      const reviewer = await boardUser(service, BOARD, ["beoordelen"]);
      for (
        const path of [
          `/boards/${BOARD.id}/agreements/${SUPPLIER}`,
          `/boards/${BOARD.id}/agreements/${SUPPLIER}/compare`,
          `/boards/${BOARD.id}/agreements/${SUPPLIER}/compare?from=1&to=2`,
        ]
      ) {
        const shown = await reviewer.page(path);
        assert.equal(shown.status, 200, path);
        assert.ok(!shown.html.includes(RLO), `${path} emits no raw U+202E`);
        assert.ok(!shown.html.includes("\u200B"), `${path} emits no raw U+200B`);
        assert.match(shown.html, /\[U\+202E\]NIET\[U\+202C\]/, path);
      }
      const agreement = await reviewer.page(`/boards/${BOARD.id}/agreements/${SUPPLIER}`);
      assert.match(agreement.html, /Cloud US Inc\.\[U\+202E\]/);
    } finally {
      await service.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Appends version 2 with a direction control in the text and a sub-processor's
 * name, as the service accepted before it refused them: built by the domain
 * from clean content, then given the old content and its recomputed oids.
 */
async function appendLegacyVersion(dir: string): Promise<void> {
  const sample = await sampleOffer([BOARD.id]);
  const legacyText = `${sample.text.trimEnd()}\n\n${NIET}\nMet\u200Bzero width space.\n`;
  const legacyProduct = structuredClone(firstProduct(sample));
  legacyProduct.subProcessors[0]!.name = `Cloud US Inc.${RLO} .ANE`;
  const store = await openTestStore({ dir, projection: stateProjection, committer: COMMITTER });
  try {
    await store.transact((state) => legacyOffer(state, sample, legacyText, legacyProduct));
  } finally {
    await store.close();
  }
}

function legacyOffer(
  state: State,
  sample: { text: string; products: unknown[] },
  legacyText: string,
  legacyProduct: Privacybijsluiter,
): Decision<unknown> {
  const clean = offerAgreement(state, {
    principal: SUPPLIER_PRINCIPAL,
    supplier: SUPPLIER,
    boards: [BOARD.id],
    title: "Versie met stuurtekens",
    text: `${sample.text.trimEnd()}\n\nVersie 2.\n`,
    products: [firstProduct(sample)],
    at: new Date(),
  });
  const files = clean.commit!.files;
  const prefix = `${versionDir(BOARD.id, SUPPLIER)}/`;
  const version = new Map<string, Uint8Array>();
  for (const [path, bytes] of files) {
    if (path.startsWith(prefix) && bytes !== null) version.set(path.slice(prefix.length), bytes);
  }
  const encoder = new TextEncoder();
  const oldOid = treeOid(version);
  const oldSha = contentSha256(version);
  version.set("agreement.md", encoder.encode(canonicalText(legacyText)));
  version.set(
    `products/${legacyProduct.product.id}.json`,
    encoder.encode(canonicalProduct(legacyProduct)),
  );
  const swap = (text: string) =>
    text.replaceAll(oldOid, treeOid(version)).replaceAll(oldSha, contentSha256(version));
  const patched = new Map<string, Uint8Array | null>();
  for (const [path, bytes] of files) {
    if (path.startsWith(prefix)) patched.set(path, version.get(path.slice(prefix.length)) ?? null);
    else patched.set(path, bytes && encoder.encode(swap(new TextDecoder().decode(bytes))));
  }
  return {
    commit: {
      ...clean.commit!,
      trailers: clean.commit!.trailers.map(([key, value]) => [key, swap(value)]),
      files: patched,
    },
    result: null,
  };
}

const SUPPLIER_PRINCIPAL: Principal = {
  subject: "legacy-supplier",
  name: "Sam Leverancier",
  organisation: SUPPLIER,
  assurance: "urn:etoegang:core:assurance-class:loa3",
  mandates: [],
  supplier: true,
  admin: false,
  auditor: false,
};
