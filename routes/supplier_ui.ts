import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { VNode } from "preact";
import type { z } from "zod";
import type { Principal } from "../domain/actor.ts";
import { supplierTarget } from "../domain/authorisation.ts";
import { compareModel } from "../domain/compare_model.ts";
import { compareVersions, type VersionSide } from "../domain/compare_versions.ts";
import { AGREEMENT_FILE, sha256Hex, versionContent } from "../domain/content.ts";
import { DomainError } from "../domain/errors.ts";
import { agreementKey, type BoardId, SupplierId } from "../domain/ids.ts";
import { offerAgreement, type OfferResult } from "../domain/offer_agreement.ts";
import { hasVisibleContent, plainText } from "../domain/plain_text.ts";
import { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import { groupBySameText, type SameTextOverview, type SameTextRow } from "../domain/same_text.ts";
import type { AgreementStatus, State, Supplier } from "../domain/state.ts";
import type { HistoryStore } from "../store/history.ts";
import { renderMarkdown } from "../views/markdown.ts";
import { renderPage } from "../views/render.ts";
import { SameTextPage } from "../views/same_text_page.ts";
import { ErrorPage } from "../views/error_page.ts";
import {
  type BoardChoice,
  OfferFormPage,
  type OfferFormValues,
  type OfferMode,
  OfferPreviewPage,
  OfferResultPage,
  type PreviewBoard,
  type PreviewGroup,
} from "../views/supplier_offer_page.ts";
import { API_LIMITS } from "./api_schemas.ts";
import { requireAuthorised } from "./authorised.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";
import { readVersion } from "./version_reader.ts";

/** Size limits of the offer form, as the page states them. */
export const OFFER_FORM_LIMITS = {
  /** The whole posted form, text and uploads together. */
  bodyBytes: 4 * 1024 * 1024,
  /** An uploaded Markdown file. */
  textFileBytes: 1024 * 1024,
  /** One uploaded privacybijsluiter (JSON). */
  productFileBytes: 256 * 1024,
} as const;

/** What {@link createSupplierUi} needs. */
export interface SupplierUiOptions {
  services: Services;
  sessions: Sessions;
}

/** A version to offer, once the form is valid: one product only in `product` mode. */
interface OfferDraft {
  mode: OfferMode;
  title: string;
  text: string;
  products: Privacybijsluiter[];
  boards: BoardId[];
}

/**
 * One content offered to some boards; several contents only when one product
 * is replaced in boards whose current versions differ.
 */
interface OfferGroup {
  boards: BoardId[];
  title: string;
  text: string;
  products: Privacybijsluiter[];
  /** The tree oid of the current version the content was built from, when it was. */
  base?: string;
}

type FormBody = Record<string, string | File | Array<string | File>>;

/** A posted form: what to show again, why it is not valid yet, or the draft it makes. */
interface ReadForm {
  values: OfferFormValues;
  errors: Record<string, string>;
  /** Null while there are errors. */
  draft: OfferDraft | null;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
// Control characters other than tab and line breaks: a sign of a binary or word-processor file.
const CONTROL_CHARACTERS = /[^\P{Cc}\t\n\r]/u;
const MARKDOWN_HEADING = /^ {0,3}#{1,6}[ \t]+\S/m;

/**
 * The supplier's pages: offer a version through a form (with a preview of
 * what happens per board and of the deviations from the sector model), offer
 * a new privacybijsluiter of one product only, and see which boards got the
 * same text. Forms are checked by the app-wide CSRF guard; their size is
 * bounded by {@link offerBodyLimit} before that guard reads them.
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
    const mode = modeOf(body);
    const read = await readDraft(body, mode, supplier, store.state);
    const step = one(body, "step");
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
    const mode = modeOf(body);
    const read = await readDraft(body, mode, supplier, store.state);
    if (!read.draft) return formPage(c, session, supplier, read.values, mode, read.errors, 422);
    const groups = await offerGroups(supplier.id, read.draft);
    if (fingerprint(mode, groups) !== one(body, "fingerprint")) {
      const notice =
        "Sinds het voorbeeld is er iets veranderd. Controleer het voorbeeld opnieuw en bied " +
        "dan aan.";
      return await previewPage(c, session, supplier, read.draft, read.values, notice);
    }
    const outcomes: OfferResult["agreements"] = [];
    const commits: string[] = [];
    for (const group of groups) {
      const { oid, result } = await offerOrThrow(session.principal, supplier, group);
      outcomes.push(...result.agreements);
      if (oid) commits.push(oid);
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
    let groups: OfferGroup[];
    let previews: PreviewGroup[];
    try {
      groups = await offerGroups(supplier.id, draft);
      previews = await Promise.all(
        groups.map((group) => previewGroup(session.principal, supplier, group)),
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
        fingerprint: fingerprint(draft.mode, groups),
        ...(notice ? { notice } : {}),
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  }

  /**
   * The contents to offer: the draft as it is, or, for a new privacybijsluiter
   * of one product, each board's current version with that product replaced
   * (boards whose current versions are the same share one content).
   */
  async function offerGroups(supplier: SupplierId, draft: OfferDraft): Promise<OfferGroup[]> {
    if (draft.mode === "full") {
      return [{
        boards: draft.boards,
        title: draft.title,
        text: draft.text,
        products: draft.products,
      }];
    }
    const product = draft.products[0]!;
    const byVersion = new Map<string, { status: AgreementStatus; boards: BoardId[] }>();
    for (const board of draft.boards) {
      const status = store.state.agreements.get(agreementKey(board, supplier))!;
      const entry = byVersion.get(status.current.oid) ?? { status, boards: [] };
      entry.boards.push(board);
      byVersion.set(status.current.oid, entry);
    }
    const groups: OfferGroup[] = [];
    for (const { status, boards } of byVersion.values()) {
      const current = await readVersion(store, status, status.current.version);
      if (!current) throw new Error(`Cannot read version ${status.current.oid} from the history`);
      groups.push({
        boards,
        base: status.current.oid,
        title: status.current.title,
        text: current.text,
        products: current.products.map((p) => p.product.id === product.product.id ? product : p),
      });
    }
    return groups;
  }

  /** What offering one content would do per board, decided against the state now; no commit. */
  async function previewGroup(
    principal: Principal,
    supplier: Supplier,
    group: OfferGroup,
  ): Promise<PreviewGroup> {
    const { result } = offerAgreement(store.state, {
      principal,
      supplier: supplier.id,
      ...group,
      at: now(),
    });
    const content = versionContent(group);
    const next: VersionSide = { version: 0, oid: content.oid, ...group };
    const summaries = new Map<string, Promise<string>>();
    const boards: PreviewBoard[] = [];
    for (const outcome of result.agreements) {
      const previous = store.state.agreements.get(agreementKey(outcome.board, supplier.id));
      const board = boardName(store.state, outcome.board);
      if (!previous) {
        boards.push({ ...board, outcome: "new", version: outcome.version });
        continue;
      }
      if (outcome.outcome === "unchanged") {
        boards.push({ ...board, outcome: "identical", version: outcome.version });
        continue;
      }
      const since = previous.current.version;
      const key = previous.current.oid;
      if (!summaries.has(key)) summaries.set(key, changeSummary(previous, next));
      boards.push({
        ...board,
        outcome: previous.current.oid === content.oid ? "reoffered" : "changed",
        since,
        sinceState: previous.state,
        version: outcome.version,
        changes: await summaries.get(key)!,
      });
    }
    return {
      oid: content.oid,
      contentSha256: content.contentSha256,
      title: group.title,
      textHtml: renderMarkdown(group.text),
      products: group.products.map((p) => ({
        id: p.product.id,
        name: p.product.name,
        version: p.product.version,
      })),
      boards,
      model: compareModel(group.text, { hasProducts: group.products.length > 0 }),
    };
  }

  async function changeSummary(previous: AgreementStatus, next: VersionSide): Promise<string> {
    const older = await readVersion(store, previous, previous.current.version);
    if (!older) return "";
    const comparison = compareVersions(older, next);
    const counts = comparison.text.counts;
    const text = comparison.text.identical
      ? "tekst gelijk"
      : `artikelen: ${counts.changed} gewijzigd, ${counts.added} toegevoegd, ` +
        `${counts.removed} verwijderd`;
    const products = comparison.products.filter((p) => p.kind !== "unchanged").length;
    return `${text}; privacybijsluiters: ${products} gewijzigd`;
  }

  async function offerOrThrow(
    principal: Principal,
    supplier: Supplier,
    group: OfferGroup,
  ): Promise<{ oid: string | null; result: OfferResult }> {
    const { base, ...content } = group;
    try {
      return await store.transact((state) => {
        if (base !== undefined) requireBase(state, supplier.id, group.boards, base);
        return offerAgreement(state, { principal, supplier: supplier.id, ...content, at: now() });
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const status = error.code === "version_superseded" ? 409 : 422;
      throw new HTTPException(status, { message: offerRefusal(error) });
    }
  }

  return ui;
}

/**
 * Bounds the size of the offer forms before anything reads them (the CSRF
 * guard parses form bodies); a larger form gets a Dutch page with status 413.
 */
export function offerBodyLimit(): MiddlewareHandler {
  return bodyLimit({
    maxSize: OFFER_FORM_LIMITS.bodyBytes,
    onError: (c) =>
      c.html(
        renderPage(ErrorPage({
          status: 422,
          detail: `Het formulier is groter dan ${
            megabytes(OFFER_FORM_LIMITS.bodyBytes)
          } en is niet verwerkt. Er is niets aangeboden. Maak de bestanden kleiner.`,
        })),
        413,
      ),
  });
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

/** Reads and checks the posted form; the values are what the form shows again. */
async function readDraft(
  body: FormBody,
  mode: OfferMode,
  supplier: Supplier,
  state: State,
): Promise<ReadForm> {
  const errors: Record<string, string> = {};
  const text = await textOf(body, errors);
  const products = await productsOf(body, errors);
  const values: OfferFormValues = {
    title: one(body, "title"),
    text,
    products: products.length > 0 && !errors["products"]
      ? JSON.stringify(products, null, 2)
      : one(body, "products"),
    boards: strings(body, "boards"),
    scope: one(body, "scope") === "current" ? "current" : "chosen",
    filter: one(body, "filter"),
  };
  const title = mode === "full" ? checkTitle(values.title, errors) : "";
  if (mode === "full") checkText(text, errors);
  checkProducts(products, mode, supplier, errors);
  const boards = chosenBoards(values, mode, supplier, state, products[0], errors);
  if (Object.keys(errors).length > 0) return { values, errors, draft: null };
  return { values, errors, draft: { mode, title, text, products, boards } };
}

async function textOf(body: FormBody, errors: Record<string, string>): Promise<string> {
  const file = files(body, "textFile")[0];
  if (!file) return one(body, "text");
  if (file.size > OFFER_FORM_LIMITS.textFileBytes) {
    errors["textFile"] = `Het bestand "${file.name}" is groter dan ${
      megabytes(OFFER_FORM_LIMITS.textFileBytes)
    }. Een tekstbestand is hoogstens zo groot.`;
    return one(body, "text");
  }
  const text = decodeUtf8(new Uint8Array(await file.arrayBuffer()));
  if (text === null) {
    errors["textFile"] =
      `Het bestand "${file.name}" is geen tekst in UTF-8. Sla het op als Markdown (.md) in UTF-8.`;
    return one(body, "text");
  }
  return text;
}

async function productsOf(
  body: FormBody,
  errors: Record<string, string>,
): Promise<Privacybijsluiter[]> {
  const sources: Array<{ label: string; source: string }> = [];
  const pasted = one(body, "products");
  if (pasted.trim() !== "") sources.push({ label: "De geplakte JSON", source: pasted });
  for (const file of files(body, "productFiles")) {
    const label = `Het bestand "${file.name}"`;
    if (file.size > OFFER_FORM_LIMITS.productFileBytes) {
      errors["productFiles"] ??= `${label} is groter dan ${
        kilobytes(OFFER_FORM_LIMITS.productFileBytes)
      }. Een privacybijsluiter is hoogstens zo groot.`;
      continue;
    }
    const source = decodeUtf8(new Uint8Array(await file.arrayBuffer()));
    if (source === null) {
      errors["productFiles"] ??= `${label} is geen tekst in UTF-8.`;
      continue;
    }
    sources.push({ label, source });
  }
  const valid: Privacybijsluiter[] = [];
  for (const { label, source } of sources) {
    const parsed = parseProducts(label, source);
    if (typeof parsed === "string") errors["products"] ??= parsed;
    else valid.push(...parsed);
  }
  return valid;
}

function parseProducts(label: string, source: string): Privacybijsluiter[] | string {
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return jsonProblem(label, source, error);
  }
  const items = Array.isArray(json) ? json : [json];
  const products: Privacybijsluiter[] = [];
  for (const [index, item] of items.entries()) {
    const result = Privacybijsluiter.safeParse(item);
    const which = items.length > 1 ? `${label} (privacybijsluiter ${index + 1})` : label;
    if (!result.success) return schemaProblem(which, result.error.issues);
    products.push(result.data);
  }
  return products;
}

function checkTitle(raw: string, errors: Record<string, string>): string {
  const title = plainText(raw).trim();
  if (!hasVisibleContent(title)) errors["title"] = "Geef de overeenkomst een titel.";
  else if (title.length > API_LIMITS.titleCharacters) {
    errors["title"] = `Een titel heeft hoogstens ${API_LIMITS.titleCharacters} tekens.`;
  } else if (/[\r\n]/.test(title)) errors["title"] = "Een titel staat op één regel.";
  return title;
}

function checkText(text: string, errors: Record<string, string>): void {
  if (errors["textFile"]) return;
  const problem = markdownProblem(text);
  if (problem) errors["text"] = problem;
}

/** Why a text cannot be offered as an agreement in Markdown, or null. */
function markdownProblem(text: string): string | null {
  if (!hasVisibleContent(text)) {
    return "Plak de tekst van de overeenkomst of kies een Markdown-bestand.";
  }
  if (text.length > API_LIMITS.textCharacters) {
    return `De tekst is ${text.length} tekens lang; hoogstens ${API_LIMITS.textCharacters} mag.`;
  }
  if (CONTROL_CHARACTERS.test(text)) {
    return "De tekst bevat onzichtbare stuurtekens, zoals in een Word- of PDF-bestand. " +
      "Lever platte tekst in Markdown.";
  }
  if (!MARKDOWN_HEADING.test(text)) {
    return "De tekst heeft geen enkel Markdown-kopje. Begin elk artikel met een kopje, " +
      'bijvoorbeeld "## Artikel 1 Definities".';
  }
  return null;
}

function checkProducts(
  products: Privacybijsluiter[],
  mode: OfferMode,
  supplier: Supplier,
  errors: Record<string, string>,
): void {
  if (errors["products"] || errors["productFiles"]) return;
  if (products.length === 0) {
    errors["products"] = "Plak of kies de privacybijsluiter (JSON) van minstens één product.";
    return;
  }
  if (mode === "product" && products.length !== 1) {
    errors["products"] =
      `Geef de privacybijsluiter van precies één product; dit zijn er ${products.length}.`;
    return;
  }
  if (products.length > API_LIMITS.products) {
    errors["products"] = `Hoogstens ${API_LIMITS.products} producten per overeenkomst.`;
    return;
  }
  const seen = new Set<string>();
  for (const product of products) {
    if (product.supplier.kvk !== supplier.id) {
      errors["products"] =
        `De privacybijsluiter van "${product.product.name}" noemt KvK ${product.supplier.kvk} als leverancier, niet uw KvK ${supplier.id}.`;
      return;
    }
    if (seen.has(product.product.id)) {
      errors["products"] = `Het product "${product.product.id}" staat er twee keer in.`;
      return;
    }
    seen.add(product.product.id);
  }
}

/**
 * The boards the form chose: every board with a current agreement for the
 * quick choice, otherwise the ticked ones. A new privacybijsluiter of one
 * product needs boards whose current version has that product.
 */
function chosenBoards(
  values: OfferFormValues,
  mode: OfferMode,
  supplier: Supplier,
  state: State,
  product: Privacybijsluiter | undefined,
  errors: Record<string, string>,
): BoardId[] {
  const choices = boardChoices(state, supplier.id);
  const ids = values.scope === "current"
    ? choices.filter(hasAgreementNow).map((choice) => choice.id)
    : [...new Set(values.boards)];
  if (ids.length === 0) {
    errors["boards"] = values.scope === "current"
      ? "Er is nog geen bestuur met een overeenkomst met u. Vink de besturen aan."
      : "Kies minstens één schoolbestuur.";
    return [];
  }
  const unknown = ids.find((id) => !state.boards.has(id));
  if (unknown !== undefined) {
    errors["boards"] = `Bestuur "${unknown.slice(0, 20)}" bestaat niet in Akkoord.`;
    return [];
  }
  if (ids.length > API_LIMITS.boards) {
    errors["boards"] = `Hoogstens ${API_LIMITS.boards} besturen tegelijk.`;
    return [];
  }
  if (mode === "product" && product) {
    const lacking = ids.find((id) =>
      !state.agreements.get(agreementKey(id, supplier.id))?.current.products
        .includes(product.product.id)
    );
    if (lacking !== undefined) {
      errors["boards"] = `De huidige versie bij ${
        state.boards.get(lacking)?.name ?? lacking
      } heeft geen privacybijsluiter van "${product.product.id}". Bied daar een nieuwe versie van de hele overeenkomst aan.`;
    }
  }
  return ids;
}

function boardChoices(state: State, supplier: SupplierId): BoardChoice[] {
  return [...state.boards.values()]
    .map((board) => {
      const status = state.agreements.get(agreementKey(board.id, supplier));
      return {
        id: board.id,
        name: board.name,
        sector: board.sector,
        ...(status
          ? {
            agreement: {
              version: status.current.version,
              state: status.state,
              inForce: status.inForce !== undefined,
            },
          }
          : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, "nl"));
}

/** Every board that has the agreement now: not only a withdrawn version without one in force. */
function hasAgreementNow(choice: BoardChoice): boolean {
  return choice.agreement !== undefined &&
    (choice.agreement.state !== "withdrawn" || choice.agreement.inForce);
}

function matchesFilter(choice: BoardChoice, filter: string): boolean {
  if (filter === "") return true;
  const wanted = filter.toLocaleLowerCase("nl");
  return [choice.name, choice.id, choice.sector].some((field) =>
    field.toLocaleLowerCase("nl").includes(wanted)
  );
}

/** What the preview carries to the next step in hidden fields. */
function carriedFields(values: OfferFormValues): Record<string, string | string[]> {
  return {
    title: values.title,
    text: values.text,
    products: values.products,
    scope: values.scope,
    boards: values.boards,
    filter: values.filter,
  };
}

/** A digest of what the preview showed: which content goes to which boards. */
function fingerprint(mode: OfferMode, groups: OfferGroup[]): string {
  const summary = groups.map((group) => ({
    oid: versionContent(group).oid,
    boards: [...group.boards].sort(),
  }));
  return sha256Hex(new TextEncoder().encode(JSON.stringify({ mode, summary })));
}

function emptyValues(mode: OfferMode): OfferFormValues {
  return {
    title: "",
    text: "",
    products: "",
    boards: [],
    scope: mode === "product" ? "current" : "chosen",
    filter: "",
  };
}

function modeOf(body: FormBody): OfferMode {
  return one(body, "mode") === "product" ? "product" : "full";
}

function knownSupplier(state: State, id: string): Supplier {
  const supplier = SupplierId.safeParse(id).success ? state.suppliers.get(id) : undefined;
  if (!supplier) {
    throw new HTTPException(404, { message: "Deze leverancier is niet bekend in Akkoord." });
  }
  return supplier;
}

function boardName(state: State, id: BoardId): { id: BoardId; name: string } {
  return { id, name: state.boards.get(id)?.name ?? `Bestuur ${id}` };
}

/**
 * Refuses to replace a product in a version that is no longer current: the
 * new version was built from `base`, and must not undo a version offered since.
 */
function requireBase(state: State, supplier: SupplierId, boards: BoardId[], base: string): void {
  for (const board of boards) {
    const current = state.agreements.get(agreementKey(board, supplier))?.current.oid;
    if (current !== base) {
      throw new DomainError(
        "version_superseded",
        `Cannot replace a privacybijsluiter for board "${board}": version ${base} is no longer current`,
      );
    }
  }
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

function jsonProblem(label: string, source: string, error: SyntaxError): string {
  const position = /position (\d+)/.exec(error.message);
  if (!position) return `${label} is geen geldige JSON.`;
  const before = source.slice(0, Number(position[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${label} is geen geldige JSON: er klopt iets niet op regel ${line}, kolom ${column}.`;
}

function schemaProblem(label: string, issues: z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => `${fieldName(issue.path)} ${issueText(issue)}`);
  const more = issues.length > 3 ? ` (en nog ${issues.length - 3})` : "";
  return `${label} is geen geldige privacybijsluiter: ${shown.join("; ")}${more}.`;
}

function fieldName(path: PropertyKey[]): string {
  if (path.length === 0) return "de bijsluiter";
  const name = path.map((part) => typeof part === "number" ? `[${part}]` : `.${String(part)}`)
    .join("").replace(/^\./, "");
  return `veld "${name}"`;
}

function issueText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return /received undefined/.test(issue.message) ? "ontbreekt" : "heeft het verkeerde type";
    case "too_small":
      return issue.origin === "array" ? "heeft te weinig onderdelen" : "is leeg of te kort";
    case "too_big":
      return issue.origin === "array" ? "heeft te veel onderdelen" : "is te lang";
    case "invalid_format":
      return "heeft niet de juiste vorm";
    case "invalid_value":
      return `heeft geen toegestane waarde (kies uit ${issue.values.map(String).join(", ")})`;
    case "unrecognized_keys":
      return `bevat onbekende velden: ${issue.keys.join(", ")}`;
    default:
      return issue.path.at(-1) === "transferSafeguard"
        ? "is nodig bij een subverwerker buiten de EER"
        : "klopt niet";
  }
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    return null;
  }
}

function one(body: FormBody, name: string): string {
  const value = body[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === "string" ? first : "";
}

function strings(body: FormBody, name: string): string[] {
  const value = body[name];
  const all = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return all.filter((item): item is string => typeof item === "string");
}

function files(body: FormBody, name: string): File[] {
  const value = body[name];
  const all = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return all.filter((item): item is File => item instanceof File && item.size > 0);
}

function pick(errors: Record<string, string>, fields: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).filter(([field]) => fields.includes(field)));
}

function megabytes(bytes: number): string {
  return `${bytes / (1024 * 1024)} MB`;
}

function kilobytes(bytes: number): string {
  return `${bytes / 1024} kB`;
}

function page(c: Context, vnode: VNode, status: 200 | 409 | 422 = 200): Response {
  return c.html(renderPage(vnode), status);
}
