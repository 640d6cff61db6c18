import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { VNode } from "preact";
import type { Principal } from "../domain/actor.ts";
import { supplierTarget } from "../domain/authorisation.ts";
import { AGREEMENT_FILE } from "../domain/content.ts";
import { DomainError } from "../domain/errors.ts";
import { SupplierId } from "../domain/ids.ts";
import { offerAgreement, type OfferResult } from "../domain/offer_agreement.ts";
import { groupBySameText, type SameTextOverview, type SameTextRow } from "../domain/same_text.ts";
import type { State, Supplier } from "../domain/state.ts";
import type { HistoryStore } from "../store/history.ts";
import { renderPage } from "../views/render.ts";
import { SameTextPage } from "../views/same_text_page.ts";
import {
  OfferFormPage,
  type OfferFormValues,
  type OfferMode,
  OfferPreviewPage,
  OfferResultPage,
  type PreviewGroup,
} from "../views/supplier_offer_page.ts";
import { requireAuthorised } from "./authorised.ts";
import {
  boardChoices,
  carriedFields,
  emptyValues,
  type FormBody,
  formField,
  hasAgreementNow,
  matchesFilter,
  OFFER_FORM_LIMITS,
  type OfferDraft,
  offerMode,
  pick,
  readOfferForm,
} from "./offer_form.ts";
import {
  boardName,
  type BoardNow,
  boardsNow,
  offerFingerprint,
  type OfferGroup,
  offerGroups,
  previewGroup,
  requireBoardsAsSeen,
} from "./offer_preview.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";

/** What {@link createSupplierUi} needs. */
export interface SupplierUiOptions {
  services: Services;
  sessions: Sessions;
}

/** What one offered content did: its commit and outcomes, or that the preview was stale. */
type GroupOutcome = { stale: true } | { stale: false; oid: string | null; result: OfferResult };

const STALE_NOTICE = "Sinds het voorbeeld is er iets veranderd bij een gekozen bestuur: er is " +
  "een andere versie aangeboden, beoordeeld of ondertekend. Er is nog niets aangeboden. " +
  "Controleer het voorbeeld opnieuw en bied dan aan.";

/**
 * The supplier's pages: offer a version through a form (with a preview of
 * what happens per board and of the deviations from the sector model), offer
 * a new privacybijsluiter of one product only, and see which boards got the
 * same text. Forms are checked by the app-wide CSRF guard; the app bounds
 * their size (OFFER_FORM_LIMITS) before that guard reads them.
 */
export function createSupplierUi(options: SupplierUiOptions): Hono {
  const { services, sessions } = options;
  const { store, now } = services;
  const ui = new Hono();

  ui.get("/suppliers/:supplier/offer", async (c) => {
    const { session, supplier } = await offerer(c);
    return formPage(c, session, supplier, emptyValues("full"), "full");
  });

  ui.get("/suppliers/:supplier/offer/product", async (c) => {
    const { session, supplier } = await offerer(c);
    return formPage(c, session, supplier, emptyValues("product"), "product");
  });

  ui.post("/suppliers/:supplier/offer/preview", async (c) => {
    const { session, supplier } = await offerer(c);
    const body = await c.req.parseBody({ all: true }) as FormBody;
    const mode = offerMode(body);
    const read = await readOfferForm(body, { mode, supplier, state: store.state });
    const step = formField(body, "step");
    if (step === "filter" || step === "edit") {
      // Only refused uploads are worth a word here: their content is not in the form any more.
      const errors = pick(read.errors, ["textFile", "productFiles"]);
      return formPage(c, session, supplier, read.values, mode, errors);
    }
    if (!read.draft) return formPage(c, session, supplier, read.values, mode, read.errors, 422);
    return await previewPage(c, session, supplier, read.draft, read.values);
  });

  ui.post("/suppliers/:supplier/offer", async (c) => {
    const { session, supplier } = await offerer(c);
    const body = await c.req.parseBody({ all: true }) as FormBody;
    const mode = offerMode(body);
    const read = await readOfferForm(body, { mode, supplier, state: store.state });
    if (!read.draft) return formPage(c, session, supplier, read.values, mode, read.errors, 422);
    const seen = boardsNow(store.state, supplier.id, read.draft.boards);
    const groups = await offerGroups(store, { ...read.draft, supplier: supplier.id });
    if (offerFingerprint(mode, groups, seen) !== formField(body, "fingerprint")) {
      return await previewPage(c, session, supplier, read.draft, read.values, STALE_NOTICE);
    }
    const outcomes: OfferResult["agreements"] = [];
    const commits: string[] = [];
    for (const group of groups) {
      const done = await offerContent(session.principal, supplier, { group, seen });
      if (done.stale) {
        return await previewPage(c, session, supplier, read.draft, read.values, STALE_NOTICE);
      }
      outcomes.push(...done.result.agreements);
      if (done.oid) commits.push(done.oid);
    }
    return page(
      c,
      OfferResultPage({
        supplier,
        rows: outcomes.map((outcome) => ({
          board: boardName(store.state, outcome.board),
          outcome: outcome.outcome,
          version: outcome.version,
        })),
        commits,
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  ui.get("/suppliers/:supplier/same-text", async (c) => {
    const session = await sessions.read(c);
    const id = c.req.param("supplier");
    requireAuthorised(session?.principal ?? null, "supplier.read", supplierTarget(id));
    const supplier = knownSupplier(store.state, id);
    if (!session) throw new HTTPException(401, { message: "Log in om verder te gaan." });
    return page(
      c,
      SameTextPage({
        supplier,
        overview: await readSameText(store, supplier.id),
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  /** The session of a person who may offer for the supplier in the path. */
  async function offerer(c: Context): Promise<{ session: Session; supplier: Supplier }> {
    const session = await sessions.read(c);
    const id = c.req.param("supplier") ?? "";
    requireAuthorised(session?.principal ?? null, "offer.create", supplierTarget(id));
    const supplier = knownSupplier(store.state, id);
    if (!session) throw new HTTPException(401, { message: "Log in om verder te gaan." });
    return { session, supplier };
  }

  function formPage(
    c: Context,
    session: Session,
    supplier: Supplier,
    values: OfferFormValues,
    mode: OfferMode,
    errors: Record<string, string> = {},
    status: 200 | 422 = 200,
  ): Response {
    const choices = boardChoices(store.state, supplier.id);
    const filter = values.filter.trim();
    const shown = choices.filter((choice) => matchesFilter(choice, filter));
    const shownIds = new Set(shown.map((choice) => choice.id));
    return page(
      c,
      OfferFormPage({
        supplier,
        mode,
        values,
        boards: shown,
        hiddenChosen: values.boards.filter((id) => !shownIds.has(id)),
        boardCount: choices.length,
        currentCount: choices.filter((choice) => hasAgreementNow(choice)).length,
        errors,
        limits: OFFER_FORM_LIMITS,
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
      status,
    );
  }

  async function previewPage(
    c: Context,
    session: Session,
    supplier: Supplier,
    draft: OfferDraft,
    values: OfferFormValues,
    notice?: string,
  ): Promise<Response> {
    const seen = boardsNow(store.state, supplier.id, draft.boards);
    let groups: OfferGroup[];
    let previews: PreviewGroup[];
    try {
      groups = await offerGroups(store, { ...draft, supplier: supplier.id });
      previews = await Promise.all(
        groups.map((group) =>
          previewGroup({ store, principal: session.principal, supplier, group, at: now() })
        ),
      );
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const errors = { boards: offerRefusal(error) };
      return formPage(c, session, supplier, values, draft.mode, errors, 422);
    }
    return page(
      c,
      OfferPreviewPage({
        supplier,
        mode: draft.mode,
        title: draft.title,
        groups: previews,
        carry: carriedFields(values),
        fingerprint: offerFingerprint(draft.mode, groups, seen),
        ...(notice ? { notice } : {}),
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  }

  /**
   * Offers one content in one commit, if its boards still have what the
   * preview showed; a refusal other than a stale preview is an error page.
   */
  async function offerContent(
    principal: Principal,
    supplier: Supplier,
    offer: { group: OfferGroup; seen: BoardNow[] },
  ): Promise<GroupOutcome> {
    const boards = new Set(offer.group.boards);
    const seen = offer.seen.filter((entry) => boards.has(entry.board));
    try {
      const done = await store.transact((state) => {
        requireBoardsAsSeen(state, supplier.id, seen);
        return offerAgreement(state, {
          principal,
          supplier: supplier.id,
          ...offer.group,
          at: now(),
        });
      });
      return { stale: false, ...done };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (error.code === "version_superseded") return { stale: true };
      throw new HTTPException(422, { message: offerRefusal(error) });
    }
  }

  return ui;
}

/**
 * Which boards got exactly the same agreement text from a supplier: every
 * agreement's current version, grouped by the blob oid of its text and the
 * tree oid of the whole version.
 */
export async function readSameText(
  store: HistoryStore<State>,
  supplier: SupplierId,
): Promise<SameTextOverview> {
  const textOids = new Map<string, Promise<string>>();
  const rows: SameTextRow[] = [];
  for (const status of store.state.agreements.values()) {
    if (status.supplier !== supplier) continue;
    const tree = status.current.oid;
    if (!textOids.has(tree)) textOids.set(tree, textOidOf(store, tree));
    rows.push({
      board: boardName(store.state, status.board),
      version: status.current.version,
      state: status.state,
      textOid: await textOids.get(tree)!,
      versionOid: tree,
    });
  }
  return groupBySameText(rows);
}

async function textOidOf(store: HistoryStore<State>, tree: string): Promise<string> {
  const files = await store.readTreeFiles(tree);
  return files.find((file) => file.path === AGREEMENT_FILE)?.oid ?? "";
}

function knownSupplier(state: State, id: string): Supplier {
  const supplier = SupplierId.safeParse(id).success ? state.suppliers.get(id) : undefined;
  if (!supplier) {
    throw new HTTPException(404, { message: "Deze leverancier is niet bekend in Akkoord." });
  }
  return supplier;
}

function offerRefusal(error: DomainError): string {
  switch (error.code) {
    case "version_superseded":
      return "Er is intussen een andere versie aangeboden. Begin opnieuw met het formulier.";
    case "not_found":
      return "Een gekozen bestuur bestaat niet (meer) in Akkoord.";
    case "forbidden":
      return "U mag niet namens deze leverancier aanbieden.";
    default:
      return "Deze versie kan zo niet worden aangeboden. Controleer de privacybijsluiters.";
  }
}

function page(c: Context, vnode: VNode, status: 200 | 409 | 422 = 200): Response {
  return c.html(renderPage(vnode), status);
}
