import { type Context, Hono } from "hono";
import type { VNode } from "preact";
import { SERVICE } from "../domain/authorisation.ts";
import {
  BOARD_LIST_MAX_ROWS,
  BOARD_NAME_MAX_LENGTH,
  type BoardListProblem,
  readBoardList,
  REGISTRY_COLUMNS,
  type RegistryColumn,
  SECTORS,
} from "../domain/board_list.ts";
import { DomainError } from "../domain/errors.ts";
import {
  type BoardChange,
  boardRegistrationFingerprint,
  type BoardRegistrationPlan,
  planBoardRegistration,
  registerOrganisations,
} from "../domain/registry.ts";
import type { Board } from "../domain/state.ts";
import {
  type BoardChangeRow,
  BoardRegistryFormPage,
  type BoardRegistryFormPageProps,
  BoardRegistryPreviewPage,
  BoardRegistryResultPage,
} from "../views/board_registry_page.ts";
import { renderPage } from "../views/render.ts";
import { authorisedSession } from "./authorised.ts";
import { sizeText } from "./body_limit.ts";
import { type FormBody, formField } from "./offer_form.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";

/** Where the registry's page is. */
export const BOARD_REGISTRY_PATH = "/admin/besturen";

/** Size limits of the registry form, as the page states them. */
export const BOARD_REGISTRY_LIMITS = {
  /** The list itself, its lines counted with one line break each. */
  csvBytes: 4 * 1024 * 1024,
  /**
   * The whole posted form: the list, room for the two-byte line breaks a
   * browser sends when the preview posts the list back, and the other fields.
   */
  bodyBytes: 4 * 1024 * 1024 + 64 * 1024,
  /** Rows of one file. */
  rows: BOARD_LIST_MAX_ROWS,
} as const;

/** Row problems the page lists; the rest are counted. */
const SHOWN_PROBLEMS = 100;

const ALREADY_NOTICE = "Alle besturen in deze lijst staan al zo in het register, misschien " +
  "doordat u de lijst zojuist registreerde. Er is niets veranderd en niets vastgelegd.";

const STALE_NOTICE = "Sinds u de lijst controleerde, is het register veranderd: een ander " +
  "heeft besturen uit dit bestand geregistreerd of gewijzigd. Er is niets geregistreerd. " +
  "Hieronder ziet u wat registreren nu zou doen; controleer het en registreer opnieuw.";

const COLUMN_LABELS: Record<BoardChange["fields"][number], string> = {
  kvk: "KvK-nummer",
  name: "naam",
  sector: "sector",
  contactEmail: "contactadres",
};

const COLUMN_NAMES: Record<RegistryColumn, string> = {
  bevoegd_gezag: "het DUO-nummer",
  kvk: "het KvK-nummer",
  naam: "de naam",
  sector: "de sector",
  contact_email: "het contactadres",
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** What a posted registry form holds: its text, or why it cannot be read. */
interface ReadForm {
  csv: string;
  errors: Record<string, string>;
  rowProblems: string[];
  boards: Board[] | null;
}

/**
 * The administrator's page for the registry of school boards: paste or
 * upload DUO's list with each board's contact address (CSV), check what
 * registering it would do ("Controleren": new, changed and unchanged
 * boards), then register every new or changed board in one signed commit
 * ("Registreren"). A file with any invalid row registers nothing. Boards the
 * file leaves out stay as they are. The preview's fingerprint refuses to
 * register when the registry changed since. Forms are checked by the
 * app-wide CSRF guard; the app bounds their size (BOARD_REGISTRY_LIMITS).
 */
export function createBoardRegistryUi(options: { services: Services; sessions: Sessions }): Hono {
  const { services, sessions } = options;
  const { store, now } = services;
  const ui = new Hono();

  ui.get(BOARD_REGISTRY_PATH, async (c) => {
    const session = await manager(c);
    return formPage(c, session, { csv: "", errors: {}, rowProblems: [], boards: null });
  });

  ui.post(`${BOARD_REGISTRY_PATH}/controleren`, async (c) => {
    const session = await manager(c);
    const body = await c.req.parseBody({ all: true }) as FormBody;
    const read = await readForm(body);
    if (!read.boards || formField(body, "step") === "edit") {
      return formPage(c, session, read, read.boards ? 200 : 422);
    }
    return previewPage(c, session, read.csv, read.boards);
  });

  ui.post(BOARD_REGISTRY_PATH, async (c) => {
    const session = await manager(c);
    const body = await c.req.parseBody({ all: true }) as FormBody;
    const read = await readForm(body);
    if (!read.boards) return formPage(c, session, read, 422);
    const boards = read.boards;
    const fingerprint = formField(body, "fingerprint");
    let done: { oid: string | null; result: BoardRegistrationPlan };
    try {
      done = await store.transact((state) => {
        if (boardRegistrationFingerprint(state, boards) !== fingerprint) {
          throw new DomainError(
            "version_superseded",
            "Cannot register the boards: the registry changed since the preview",
          );
        }
        const { commit } = registerOrganisations(state, {
          boards,
          suppliers: [],
          at: now(),
          principal: session.principal,
        });
        return { commit, result: planBoardRegistration(state, boards) };
      });
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== "version_superseded") throw error;
      const current = planBoardRegistration(store.state, boards);
      // Registered meanwhile, most likely by this same form sent twice.
      const already = current.added.length === 0 && current.changed.length === 0;
      return already
        ? previewPage(c, session, read.csv, boards, ALREADY_NOTICE, 200)
        : previewPage(c, session, read.csv, boards, STALE_NOTICE);
    }
    const plan = done.result;
    return page(
      c,
      BoardRegistryResultPage({
        added: plan.added.length,
        changed: plan.changed.length,
        unchanged: plan.unchanged,
        commit: done.oid,
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  /** The session of a person who may manage the registry. */
  async function manager(c: Context): Promise<Session> {
    return authorisedSession(await sessions.read(c), "registry.manage", SERVICE);
  }

  function formPage(c: Context, session: Session, read: ReadForm, status: 200 | 422 = 200) {
    const props: BoardRegistryFormPageProps = {
      csv: read.csv,
      errors: read.errors,
      rowProblems: read.rowProblems.slice(0, SHOWN_PROBLEMS),
      moreProblems: Math.max(0, read.rowProblems.length - SHOWN_PROBLEMS),
      registered: store.state.boards.size,
      limits: { body: sizeText(BOARD_REGISTRY_LIMITS.csvBytes), rows: BOARD_REGISTRY_LIMITS.rows },
      user: pageUser(store.state, session.principal),
      csrf: session.csrf,
    };
    return page(c, BoardRegistryFormPage(props), status);
  }

  function previewPage(
    c: Context,
    session: Session,
    csv: string,
    boards: Board[],
    notice?: string,
    status: 200 | 409 = notice ? 409 : 200,
  ): Response {
    const plan = planBoardRegistration(store.state, boards);
    return page(
      c,
      BoardRegistryPreviewPage({
        counts: {
          added: plan.added.length,
          changed: plan.changed.length,
          unchanged: plan.unchanged,
          untouched: plan.untouched,
        },
        changes: plan.changed.map(changeRow),
        csv,
        fingerprint: boardRegistrationFingerprint(store.state, boards),
        ...(notice ? { notice } : {}),
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
      status,
    );
  }

  return ui;
}

/** Reads the posted file or, without one, the pasted text, and checks every row. */
async function readForm(body: FormBody): Promise<ReadForm> {
  const file = uploaded(body, "csvFile");
  let csv = formField(body, "csv");
  if (file) {
    const text = decode(new Uint8Array(await file.arrayBuffer()));
    if (text === null) {
      const message = `Het bestand "${file.name}" is geen tekst in UTF-8. ` +
        'Sla het op als "CSV UTF-8 (door komma\'s gescheiden)" en kies het opnieuw.';
      return { csv, errors: { csvFile: message }, rowProblems: [], boards: null };
    }
    csv = text;
  }
  if (csv.trim() === "") {
    const message = "Plak de lijst van besturen (CSV) of kies een CSV-bestand.";
    return { csv, errors: { csv: message }, rowProblems: [], boards: null };
  }
  if (encoder.encode(csv.replaceAll("\r\n", "\n")).length > BOARD_REGISTRY_LIMITS.csvBytes) {
    const message = `De lijst is groter dan ${sizeText(BOARD_REGISTRY_LIMITS.csvBytes)}; ` +
      "er is niets geregistreerd. Verdeel de lijst over kleinere bestanden.";
    return { csv: "", errors: { csv: message }, rowProblems: [], boards: null };
  }
  const list = readBoardList(csv);
  if (list.ok) return { csv, errors: {}, rowProblems: [], boards: list.boards };
  const fileLevel = list.problems.find((problem) => !("row" in problem));
  if (fileLevel) {
    return { csv, errors: { csv: problemText(fileLevel) }, rowProblems: [], boards: null };
  }
  const rows = [...new Set(list.problems.map((problem) => "row" in problem ? problem.row : 0))];
  const summary = rows.length === 1
    ? `Rij ${rows[0]} klopt niet; er is niets geregistreerd. Verbeter de rij en controleer opnieuw.`
    : `${rows.length} rijen kloppen niet (${rowList(rows)}); er is niets geregistreerd. ` +
      "Verbeter de rijen en controleer opnieuw.";
  return {
    csv,
    errors: { csv: summary },
    rowProblems: list.problems.map(problemText),
    boards: null,
  };
}

/** A problem of a registry file in Dutch, naming the row as a spreadsheet numbers it. */
function problemText(problem: BoardListProblem): string {
  switch (problem.kind) {
    case "syntax":
      return "Het bestand is geen geldige CSV: een veld tussen aanhalingstekens wordt niet " +
        "afgesloten, of er staat een aanhalingsteken midden in een veld" +
        (problem.line === null ? "." : ` (rond regel ${problem.line}).`);
    case "header":
      return `De eerste regel moet precies ${REGISTRY_COLUMNS.join(",")} zijn; ` +
        `in het bestand staat ${shown(problem.found.join(","))}.`;
    case "no_rows":
      return "Het bestand heeft wel een kopregel, maar geen enkel bestuur.";
    case "too_many":
      return `Het bestand heeft ${problem.rows} besturen; hoogstens ${BOARD_LIST_MAX_ROWS} ` +
        "per keer. Verdeel de lijst over meer bestanden.";
    case "columns":
      return `Rij ${problem.row}: heeft ${problem.found} ${
        problem.found === 1 ? "kolom" : "kolommen"
      }, verwacht ${REGISTRY_COLUMNS.length} (${REGISTRY_COLUMNS.join(", ")}). ` +
        "Staat er een komma in een naam, zet de naam dan tussen aanhalingstekens.";
    case "duplicate":
      return `Rij ${problem.row}: DUO-nummer ${problem.id} staat ook al in rij ${problem.first}; ` +
        "elk bestuur staat één keer in het bestand.";
    case "cell":
      return `Rij ${problem.row}: ${cellText(problem)}`;
  }
}

function cellText(problem: Extract<BoardListProblem, { kind: "cell" }>): string {
  const { value, hidden } = problem;
  const trimmed = value.trim();
  if (hidden !== null) {
    return `${COLUMN_NAMES[problem.column]} bevat op teken ${hidden.column} het onzichtbare ` +
      `teken ${hidden.codePoint}${
        hidden.direction ? ", dat de leesrichting omdraait" : ""
      }. Haal het teken weg.`;
  }
  switch (problem.column) {
    case "bevoegd_gezag":
      return `het DUO-nummer (bevoegd_gezag) ${shown(value)} is geen nummer van 5 cijfers.${
        leadingZeros(trimmed, 5)
      }`;
    case "kvk":
      return `het KvK-nummer ${shown(value)} is geen nummer van 8 cijfers.${
        leadingZeros(trimmed, 8)
      }`;
    case "naam":
      if (trimmed === "") return "de naam ontbreekt.";
      if (trimmed.length > BOARD_NAME_MAX_LENGTH) {
        return `de naam is ${trimmed.length} tekens lang; hoogstens ${BOARD_NAME_MAX_LENGTH} mag.`;
      }
      return "de naam bevat een regeleinde of een stuurteken; een naam staat op één regel.";
    case "sector":
      return `de sector ${shown(value)} is geen ${SECTORS.slice(0, -1).join(", ")} of ` +
        `${SECTORS.at(-1)}, en geen combinatie ` +
        'daarvan met "+" ertussen, zoals bo+so (elke sector één keer).';
    case "contact_email":
      if (trimmed === "") return "het contactadres (contact_email) ontbreekt.";
      return `het contactadres ${shown(value)} is geen geldig e-mailadres. Vul per bestuur ` +
        "precies één adres in, zoals privacy@bestuur.nl.";
  }
}

/** A hint when a number lost its leading zeros, as a spreadsheet does with number cells. */
function leadingZeros(value: string, digits: number): string {
  return /^\d+$/.test(value) && value.length < digits
    ? ` Zijn de voorloopnullen weggevallen? Een spreadsheet laat ze weg als de kolom geen tekst is.`
    : "";
}

/** A cell quoted for a message, shortened when long. */
function shown(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 57)}…` : value;
  return `"${short}"`;
}

/** Row numbers for a sentence: the first few, then how many more. */
function rowList(rows: number[]): string {
  const first = rows.slice(0, 10).join(", ");
  return rows.length > 10 ? `rij ${first} en nog ${rows.length - 10}` : `rij ${first}`;
}

function changeRow(change: BoardChange): BoardChangeRow {
  return {
    id: change.after.id,
    name: change.before.name,
    changes: change.fields.map((name) => ({
      label: COLUMN_LABELS[name],
      before: change.before[name],
      after: change.after[name],
    })),
  };
}

function decode(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

function uploaded(body: FormBody, name: string): File | undefined {
  const value = body[name];
  const all = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return all.find((item): item is File => item instanceof File && item.size > 0);
}

function page(c: Context, vnode: VNode, status: 200 | 409 | 422 = 200): Response {
  c.header("Cache-Control", "no-store");
  return c.html(renderPage(vnode), status);
}
