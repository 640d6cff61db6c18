import type { z } from "zod";
import { agreementKey, type BoardId, type SupplierId } from "../domain/ids.ts";
import { findHiddenCharacter, hasVisibleContent, plainText } from "../domain/plain_text.ts";
import { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { State, Supplier } from "../domain/state.ts";
import type { BoardChoice, OfferFormValues, OfferMode } from "../views/supplier_offer_page.ts";
import { API_LIMITS } from "./api_schemas.ts";

/** Size limits of the offer form, as the page states them. */
export const OFFER_FORM_LIMITS = {
  /** The whole posted form, text and uploads together. */
  bodyBytes: 4 * 1024 * 1024,
  /** An uploaded Markdown file. */
  textFileBytes: 1024 * 1024,
  /** One uploaded privacybijsluiter (JSON). */
  productFileBytes: 256 * 1024,
} as const;

/** A version to offer, once the form is valid: one product only in `product` mode. */
export interface OfferDraft {
  mode: OfferMode;
  title: string;
  text: string;
  products: Privacybijsluiter[];
  boards: BoardId[];
}

/** A posted multipart form, as Hono parses it with `all: true`. */
export type FormBody = Record<string, string | File | Array<string | File>>;

/** A posted form: what to show again, why it is not valid yet, or the draft it makes. */
export interface ReadForm {
  values: OfferFormValues;
  errors: Record<string, string>;
  /** Null while there are errors. */
  draft: OfferDraft | null;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
// Control characters other than tab and line breaks: a sign of a binary or word-processor file.
const CONTROL_CHARACTERS = /[^\P{Cc}\t\n\r]/u;
const MARKDOWN_HEADING = /^ {0,3}#{1,6}[ \t]+\S/m;

/** What {@link readOfferForm} checks a form against. */
export interface OfferFormContext {
  mode: OfferMode;
  supplier: Supplier;
  /** The state now: which boards exist and what they have. */
  state: State;
}

/**
 * Reads and checks a posted offer form: the text (typed or uploaded), the
 * privacybijsluiters (pasted or uploaded) and the boards. The values are what
 * the form shows again; the errors are Dutch, by field id.
 */
export async function readOfferForm(body: FormBody, context: OfferFormContext): Promise<ReadForm> {
  const { mode, supplier, state } = context;
  const errors: Record<string, string> = {};
  const text = await textOf(body, errors);
  const products = await productsOf(body, errors);
  const values: OfferFormValues = {
    title: formField(body, "title"),
    text,
    products: products.length > 0 && !errors["products"]
      ? JSON.stringify(products, null, 2)
      : formField(body, "products"),
    boards: strings(body, "boards"),
    scope: formField(body, "scope") === "current" ? "current" : "chosen",
    filter: formField(body, "filter"),
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
  if (!file) return formField(body, "text");
  if (file.size > OFFER_FORM_LIMITS.textFileBytes) {
    errors["textFile"] = `Het bestand "${file.name}" is groter dan ${
      megabytes(OFFER_FORM_LIMITS.textFileBytes)
    }. Een tekstbestand is hoogstens zo groot.`;
    return formField(body, "text");
  }
  const text = decodeUtf8(new Uint8Array(await file.arrayBuffer()));
  if (text === null) {
    errors["textFile"] =
      `Het bestand "${file.name}" is geen tekst in UTF-8. Sla het op als Markdown (.md) in UTF-8.`;
    return formField(body, "text");
  }
  return text;
}

async function productsOf(
  body: FormBody,
  errors: Record<string, string>,
): Promise<Privacybijsluiter[]> {
  const sources: Array<{ label: string; source: string }> = [];
  const pasted = formField(body, "products");
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
  const hidden = findHiddenCharacter(text);
  if (hidden !== null) {
    return `Regel ${hidden.line} bevat het onzichtbare teken ${hidden.codePoint}${
      hidden.direction ? ", dat de leesrichting van de tekst omdraait" : ""
    }. Een beoordelaar zou dan iets anders lezen dan er staat. Haal het teken weg.`;
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

/** Every board, by Dutch name, with the agreement it has with the supplier now. */
export function boardChoices(state: State, supplier: SupplierId): BoardChoice[] {
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
export function hasAgreementNow(choice: BoardChoice): boolean {
  return choice.agreement !== undefined &&
    (choice.agreement.state !== "withdrawn" || choice.agreement.inForce);
}

/** Whether a board's name, number or sector contains the filter (any case). */
export function matchesFilter(choice: BoardChoice, filter: string): boolean {
  if (filter === "") return true;
  const wanted = filter.toLocaleLowerCase("nl");
  return [choice.name, choice.id, choice.sector].some((field) =>
    field.toLocaleLowerCase("nl").includes(wanted)
  );
}

/** What the preview carries to the next step in hidden fields. */
export function carriedFields(values: OfferFormValues): Record<string, string | string[]> {
  return {
    title: values.title,
    text: values.text,
    products: values.products,
    scope: values.scope,
    boards: values.boards,
    filter: values.filter,
  };
}

/** The values of a new, empty form. */
export function emptyValues(mode: OfferMode): OfferFormValues {
  return {
    title: "",
    text: "",
    products: "",
    boards: [],
    scope: mode === "product" ? "current" : "chosen",
    filter: "",
  };
}

/** Which form was posted: a whole version or one product's privacybijsluiter. */
export function offerMode(body: FormBody): OfferMode {
  return formField(body, "mode") === "product" ? "product" : "full";
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
  if (issue.code === "custom" && typeof issue.params?.hiddenCharacter === "string") {
    return `bevat het onzichtbare teken ${issue.params.hiddenCharacter}; haal het weg`;
  }
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

/** The first text value of a field, or "". */
export function formField(body: FormBody, name: string): string {
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

/** Only the errors of the given fields. */
export function pick(errors: Record<string, string>, fields: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).filter(([field]) => fields.includes(field)));
}

function megabytes(bytes: number): string {
  return `${bytes / (1024 * 1024)} MB`;
}

function kilobytes(bytes: number): string {
  return `${bytes / 1024} kB`;
}
