import { type Context, Hono } from "hono";
import { SERVICE } from "../domain/authorisation.ts";
import { BOARD_NAME_MAX_LENGTH, RegisteredSupplier, trimSpaces } from "../domain/board_list.ts";
import { MAIL_ADDRESS_MAX_LENGTH } from "../domain/invite_supplier.ts";
import { findHiddenCharacter, hasVisibleContent } from "../domain/plain_text.ts";
import { registerOrganisations } from "../domain/registry.ts";
import type { Supplier } from "../domain/state.ts";
import { renderPage } from "../views/render.ts";
import {
  SupplierRegistryPage,
  type SupplierRegistryPageProps,
  type SupplierValues,
} from "../views/supplier_registry_page.ts";
import { authorisedSession } from "./authorised.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";

/** Where the supplier registry's page is. */
export const SUPPLIER_REGISTRY_PATH = "/admin/leveranciers";

/** The form field of each property of a supplier. */
const FIELDS = { id: "kvk", name: "name", contactEmail: "contactEmail" } as const;

/** The fields as a message names them. */
const FIELD_NAMES: Record<keyof SupplierValues, string> = {
  kvk: "Het KvK-nummer",
  name: "De naam",
  contactEmail: "Het contactadres",
};

const EMPTY: SupplierValues = { kvk: "", name: "", contactEmail: "" };

/**
 * The administrator's page for the registry of suppliers: GET shows a form
 * for one supplier (prefilled with a registered one's values by `?kvk=`) and
 * every registered supplier; POST registers a new supplier, or a registered
 * one's new name and contact address, as one signed commit by the
 * administrator. A supplier registered as it is makes no commit. The form is
 * checked by the app-wide CSRF guard and bounded by the ordinary page limit.
 */
export function createSupplierRegistryUi(
  options: { services: Services; sessions: Sessions },
): Hono {
  const { services, sessions } = options;
  const { store, now } = services;
  const ui = new Hono();

  ui.get(SUPPLIER_REGISTRY_PATH, async (c) => {
    const session = await manager(c);
    const registered = store.state.suppliers.get(c.req.query("kvk") ?? "");
    const values = registered
      ? { kvk: registered.id, name: registered.name, contactEmail: registered.contactEmail }
      : EMPTY;
    return page(c, session, { values, errors: {} });
  });

  ui.post(SUPPLIER_REGISTRY_PATH, async (c) => {
    const session = await manager(c);
    const body = await c.req.parseBody();
    const values: SupplierValues = {
      kvk: String(body["kvk"] ?? ""),
      name: String(body["name"] ?? ""),
      contactEmail: String(body["contactEmail"] ?? ""),
    };
    const parsed = RegisteredSupplier.safeParse({
      id: trimSpaces(values.kvk),
      name: trimSpaces(values.name),
      contactEmail: trimSpaces(values.contactEmail),
    });
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        const field = FIELDS[issue.path[0] as keyof typeof FIELDS];
        errors[field] ??= problemText(field, values[field]);
      }
      return page(c, session, { values, errors }, 422);
    }
    const supplier: Supplier = parsed.data;
    const board = [...store.state.boards.values()].find((board) => board.kvk === supplier.id);
    if (board) {
      const kvk = `Het KvK-nummer ${supplier.id} is dat van schoolbestuur ${board.name} ` +
        `(${board.id}). Een schoolbestuur is geen leverancier; controleer het nummer.`;
      return page(c, session, { values, errors: { kvk } }, 422);
    }
    const { oid, result: before } = await store.transact((state) => {
      const before = state.suppliers.get(supplier.id) ?? null;
      const { commit } = registerOrganisations(state, {
        boards: [],
        suppliers: [supplier],
        at: now(),
        principal: session.principal,
      });
      return { commit, result: before };
    });
    const named = `${supplier.name} (KvK ${supplier.id})`;
    const message = oid === null
      ? `${named} stond al zo in het register. Er is niets veranderd en niets vastgelegd.`
      : before === null
      ? `${named} is geregistreerd. De leverancier kan nu inloggen.`
      : `De gegevens van ${named} zijn gewijzigd.`;
    return page(c, session, { values: EMPTY, errors: {}, done: { message, commit: oid } });
  });

  /** The session of a person who may manage the registry. */
  async function manager(c: Context): Promise<Session> {
    return authorisedSession(await sessions.read(c), "registry.manage", SERVICE);
  }

  function page(
    c: Context,
    session: Session,
    props: Pick<SupplierRegistryPageProps, "values" | "errors" | "done">,
    status: 200 | 422 = 200,
  ): Response {
    const suppliers = [...store.state.suppliers.values()]
      .sort((a, b) => a.name.localeCompare(b.name, "nl") || a.id.localeCompare(b.id));
    const vnode = SupplierRegistryPage({
      ...props,
      suppliers,
      limits: { name: BOARD_NAME_MAX_LENGTH, contactEmail: MAIL_ADDRESS_MAX_LENGTH },
      user: pageUser(store.state, session.principal),
      csrf: session.csrf,
    });
    c.header("Cache-Control", "no-store");
    return c.html(renderPage(vnode), status);
  }

  return ui;
}

/** Why a field of the form cannot be registered, in Dutch. */
function problemText(field: keyof SupplierValues, value: string): string {
  const trimmed = trimSpaces(value);
  const hidden = findHiddenCharacter(value);
  if (hidden !== null) {
    return `${FIELD_NAMES[field]} bevat op teken ${hidden.column} het onzichtbare teken ` +
      `${hidden.codePoint}${hidden.direction ? ", dat de leesrichting omdraait" : ""}. ` +
      "Haal het teken weg.";
  }
  switch (field) {
    case "kvk":
      if (trimmed === "") return "Vul het KvK-nummer van de leverancier in.";
      return `Het KvK-nummer ${shown(trimmed)} is geen nummer van 8 cijfers.`;
    case "name":
      if (!hasVisibleContent(trimmed)) return "Vul de naam van de leverancier in.";
      if (trimmed.length > BOARD_NAME_MAX_LENGTH) {
        return `De naam is ${trimmed.length} tekens lang; hoogstens ${BOARD_NAME_MAX_LENGTH} mag.`;
      }
      return "De naam bevat een regeleinde of een stuurteken; een naam staat op één regel.";
    case "contactEmail":
      if (trimmed === "") return "Vul het contactadres van de leverancier in.";
      return `Het contactadres ${shown(trimmed)} is geen geldig e-mailadres. Vul precies één ` +
        "adres in, zoals privacy@leverancier.nl.";
  }
}

/** A value quoted for a message, shortened when long. */
function shown(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 57)}…` : value;
  return `"${short}"`;
}
