import type { Principal } from "./domain/actor.ts";
import { demoBoards, demoSuppliers } from "./domain/demo_registry.ts";
import { offerAgreement } from "./domain/offer_agreement.ts";
import { Privacybijsluiter } from "./domain/privacybijsluiter.ts";
import { registerOrganisations } from "./domain/registry.ts";
import type { State } from "./domain/state.ts";
import type { HistoryStore } from "./store/history.ts";

const SEED = new URL("./seed/", import.meta.url);

/** The demo offers made on first start: which sample goes to which boards. */
const DEMO_OFFERS = [
  {
    supplier: "99000001",
    title: "Verwerkersovereenkomst Schoolwijzer",
    folder: "sample/",
    boards: ["41039", "13586", "41780", "41491"],
  },
  {
    supplier: "99000002",
    title: "Verwerkersovereenkomst Rekenrijk",
    folder: "sample/second_supplier/",
    boards: ["41039", "13603"],
  },
];

/**
 * Loads the demo registry (DUO's boards, two demo suppliers) and, when no
 * agreement exists yet, offers the sample agreements to a few boards, so the
 * pages have something to show. Loading twice changes nothing.
 */
export async function loadDemoData(store: HistoryStore<State>, now: () => Date): Promise<void> {
  const boards = demoBoards(await Deno.readTextFile(new URL("duo_besturen.csv", SEED)));
  const suppliers = demoSuppliers(await Deno.readTextFile(new URL("suppliers.json", SEED)));
  await store.transact((state) => registerOrganisations(state, { boards, suppliers, at: now() }));
  if (store.state.agreements.size > 0) return;

  for (const offer of DEMO_OFFERS) {
    const folder = new URL(offer.folder, SEED);
    const text = await Deno.readTextFile(new URL("verwerkersovereenkomst.md", folder));
    const products: Privacybijsluiter[] = [];
    for await (const entry of Deno.readDir(new URL("products/", folder))) {
      const json = await Deno.readTextFile(new URL(`products/${entry.name}`, folder));
      products.push(Privacybijsluiter.parse(JSON.parse(json)));
    }
    const principal: Principal = {
      subject: "demo-data",
      name: "Demogegevens",
      organisation: offer.supplier,
      assurance: "urn:etoegang:core:assurance-class:loa3",
      mandates: [],
      supplier: true,
      admin: false,
      auditor: false,
    };
    await store.transact((state) =>
      offerAgreement(state, {
        principal,
        supplier: offer.supplier,
        boards: offer.boards,
        title: offer.title,
        text,
        products,
        at: now(),
      })
    );
  }
}
