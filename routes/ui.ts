import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { VNode } from "preact";
import { z } from "zod";
import type { Principal } from "../domain/actor.ts";
import { AGREEMENT_FILE, PRODUCTS_DIR } from "../domain/content.ts";
import {
  type AgreementCommand,
  approveAgreement,
  rejectAgreement,
  signAgreement,
} from "../domain/decide_on_agreement.ts";
import { DOMAIN_ERROR_STATUS, DomainError } from "../domain/errors.ts";
import { agreementKey, BoardId, Oid, Sha256, SupplierId } from "../domain/ids.ts";
import { boardOf, canReadBoard } from "../domain/permissions.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import { acceptTerms, TERMS_VERSION } from "../domain/registry.ts";
import type { AgreementStatus, Board, State, Supplier } from "../domain/state.ts";
import { AdminOverviewPage } from "../views/admin_overview_page.ts";
import { AgreementPage } from "../views/agreement_page.ts";
import { BoardOverviewPage } from "../views/board_overview_page.ts";
import { HomePage } from "../views/home_page.ts";
import type { WaitingFor } from "../views/labels.ts";
import type { PageUser } from "../views/layout.ts";
import { renderMarkdown } from "../views/markdown.ts";
import { renderPage } from "../views/render.ts";
import { SignPage } from "../views/sign_page.ts";
import { SupplierOverviewPage } from "../views/supplier_overview_page.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";

type Env = { Variables: { session: Session | null } };

const VersionForm = z.object({
  version: z.coerce.number().int().positive(),
  oid: Oid,
  contentSha256: Sha256,
});

/** The board and supplier web pages (server-rendered, Dutch, no JavaScript needed). */
export function createUi(services: Services, sessions: Sessions): Hono<Env> {
  const ui = new Hono<Env>();
  const { store, now } = services;

  ui.use(async (c, next) => {
    c.set("session", await sessions.read(c));
    await next();
  });

  ui.get("/", (c) => {
    const session = c.get("session");
    if (!session) return page(c, HomePage());
    const { principal } = session;
    if (principal.admin) return c.redirect("/admin", 303);
    const board = boardOf(store.state, principal);
    if (board) return c.redirect(`/boards/${board.id}`, 303);
    if (principal.supplier && store.state.suppliers.has(principal.organisation)) {
      return c.redirect(`/suppliers/${principal.organisation}`, 303);
    }
    if (principal.auditor) return c.redirect("/tokens", 303);
    throw new HTTPException(403, {
      message:
        `Uw organisatie (KvK ${principal.organisation}) is niet bekend als schoolbestuur of leverancier in Akkoord.`,
    });
  });

  ui.get("/admin", (c) => {
    const session = requireSession(c);
    if (!session.principal.admin) {
      throw new HTTPException(403, { message: "Deze pagina is voor beheerders." });
    }
    const counts = new Map<string, { signed: number; waiting: number; rejected: number }>();
    for (const status of store.state.agreements.values()) {
      const count = counts.get(status.board) ?? { signed: 0, waiting: 0, rejected: 0 };
      if (status.inForce) count.signed++;
      if (status.state === "offered" || status.state === "approved") count.waiting++;
      if (status.state === "rejected") count.rejected++;
      counts.set(status.board, count);
    }
    const rows = [...store.state.boards.values()]
      .sort((a, b) => a.name.localeCompare(b.name, "nl"))
      .map((board) => ({
        board,
        ...(counts.get(board.id) ?? { signed: 0, waiting: 0, rejected: 0 }),
      }));
    return page(
      c,
      AdminOverviewPage({
        rows,
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  ui.get("/boards/:board", (c) => {
    const session = requireSession(c);
    const board = readableBoard(store.state, session.principal, c.req.param("board"));
    const rows = [...store.state.agreements.values()]
      .filter((status) => status.board === board.id)
      .map((status) => ({
        supplier: supplierOf(store.state, status.supplier),
        status,
        waitingFor: waitingFor(status),
      }))
      .sort((a, b) => a.supplier.name.localeCompare(b.supplier.name, "nl"));
    return page(
      c,
      BoardOverviewPage({
        board,
        rows,
        canAcceptTerms: board.kvk === session.principal.organisation &&
          session.principal.mandates.length > 0,
        termsVersion: TERMS_VERSION,
        csrf: session.csrf,
        user: pageUser(store.state, session.principal),
      }),
    );
  });

  ui.post("/boards/:board/terms", async (c) => {
    const session = requireSession(c);
    const board = BoardId.safeParse(c.req.param("board"));
    if (!board.success) throw notFound();
    await decideOrThrow(() =>
      store.transact((state) =>
        acceptTerms(state, { principal: session.principal, board: board.data, at: now() })
      )
    );
    return c.redirect(`/boards/${board.data}`, 303);
  });

  ui.get("/boards/:board/agreements/:supplier", async (c) => {
    const session = requireSession(c);
    return page(c, await agreementPage(session, c.req.param("board"), c.req.param("supplier")));
  });

  ui.post("/boards/:board/agreements/:supplier/approve", async (c) => {
    const session = requireSession(c);
    const command = await agreementCommand(c, session);
    await decideOrThrow(() => store.transact((state) => approveAgreement(state, command)));
    return c.redirect(agreementUrl(command), 303);
  });

  ui.post("/boards/:board/agreements/:supplier/reject", async (c) => {
    const session = requireSession(c);
    const command = await agreementCommand(c, session);
    const reason = String((await c.req.parseBody())["reason"] ?? "");
    try {
      await store.transact((state) => rejectAgreement(state, { ...command, reason }));
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== "reason_required") {
        return decisionError(error);
      }
      const form = {
        errors: { reason: "Geef aan waarom u deze versie afwijst." },
        values: { reason },
      };
      return page(c, await agreementPage(session, command.board, command.supplier, form), 422);
    }
    return c.redirect(agreementUrl(command), 303);
  });

  ui.get("/boards/:board/agreements/:supplier/sign", (c) => {
    const session = requireSession(c);
    return page(c, signPage(session, c.req.param("board"), c.req.param("supplier")));
  });

  ui.post("/boards/:board/agreements/:supplier/sign", async (c) => {
    const session = requireSession(c);
    const command = await agreementCommand(c, session);
    if ((await c.req.parseBody())["confirm"] === undefined) {
      const errors = {
        confirm: "Vink aan dat u deze versie hebt gelezen en namens het bestuur ondertekent.",
      };
      return page(c, signPage(session, command.board, command.supplier, errors), 422);
    }
    await decideOrThrow(() => store.transact((state) => signAgreement(state, command)));
    return c.redirect(agreementUrl(command), 303);
  });

  ui.get("/suppliers/:supplier", (c) => {
    const session = requireSession(c);
    const supplier = store.state.suppliers.get(c.req.param("supplier"));
    const { principal } = session;
    if (!supplier) throw notFound();
    if (!principal.admin && !(principal.supplier && principal.organisation === supplier.id)) {
      throw new HTTPException(403, { message: "U handelt niet namens deze leverancier." });
    }
    const rows = [...store.state.agreements.values()]
      .filter((status) => status.supplier === supplier.id)
      .map((status) => ({ board: store.state.boards.get(status.board)!, status }))
      .filter((row) => row.board !== undefined)
      .sort((a, b) => a.board.name.localeCompare(b.board.name, "nl"));
    return page(
      c,
      SupplierOverviewPage({ supplier, rows, user: pageUser(store.state, principal) }),
    );
  });

  async function agreementPage(
    session: Session,
    boardParam: string,
    supplierParam: string,
    form?: { errors: Record<string, string>; values: Record<string, string> },
  ): Promise<VNode> {
    const { principal } = session;
    const { board, supplier, status } = readableAgreement(
      store.state,
      principal,
      boardParam,
      supplierParam,
    );
    const files = await store.readTreeFiles(status.current.oid);
    const decoder = new TextDecoder();
    const text = files.find((file) => file.path === AGREEMENT_FILE);
    const products = files
      .filter((file) => file.path.startsWith(`${PRODUCTS_DIR}/`))
      .map((file) => JSON.parse(decoder.decode(file.content)) as Privacybijsluiter);
    const actsForBoard = board.kvk === principal.organisation && board.termsAccepted !== undefined;
    const reviewer = actsForBoard && principal.mandates.includes("beoordelen");
    return AgreementPage({
      board,
      supplier,
      status,
      agreementHtml: renderMarkdown(text ? decoder.decode(text.content) : ""),
      products,
      actions: {
        approve: reviewer && status.state === "offered",
        reject: reviewer && (status.state === "offered" || status.state === "approved"),
        sign: actsForBoard && principal.mandates.includes("ondertekenen") &&
          status.state === "approved",
      },
      csrf: session.csrf,
      user: pageUser(store.state, principal),
      ...form,
    });
  }

  function signPage(
    session: Session,
    boardParam: string,
    supplierParam: string,
    errors?: Record<string, string>,
  ): VNode {
    const { board, supplier, status } = readableAgreement(
      store.state,
      session.principal,
      boardParam,
      supplierParam,
    );
    return SignPage({
      board,
      supplier,
      status,
      csrf: session.csrf,
      user: pageUser(store.state, session.principal),
      ...(errors ? { errors } : {}),
    });
  }

  async function agreementCommand(c: Context, session: Session): Promise<AgreementCommand> {
    const board = BoardId.safeParse(c.req.param("board"));
    const supplier = SupplierId.safeParse(c.req.param("supplier"));
    if (!board.success || !supplier.success) throw notFound();
    const form = VersionForm.safeParse(await c.req.parseBody());
    if (!form.success) {
      throw new HTTPException(400, {
        message: "Het formulier noemt geen geldige versie. Laad de pagina opnieuw.",
      });
    }
    return {
      principal: session.principal,
      board: board.data,
      supplier: supplier.data,
      shown: form.data,
      at: now(),
    };
  }

  return ui;
}

/** Responds with a rendered page. */
function page(c: Context, vnode: VNode, status: 200 | 422 = 200): Response {
  return c.html(renderPage(vnode), status);
}

function requireSession(c: Context<Env>): Session {
  const session = c.get("session");
  if (!session) throw new HTTPException(401, { message: "Log in om verder te gaan." });
  return session;
}

function readableBoard(state: State, principal: Principal, id: string): Board {
  const board = state.boards.get(id);
  if (!board) throw notFound();
  if (!canReadBoard(state, principal, board.id)) {
    throw new HTTPException(403, { message: "U handelt niet namens dit schoolbestuur." });
  }
  return board;
}

function readableAgreement(
  state: State,
  principal: Principal,
  boardId: string,
  supplierId: string,
): { board: Board; supplier: Supplier; status: AgreementStatus } {
  const board = readableBoard(state, principal, boardId);
  const status = state.agreements.get(agreementKey(board.id, supplierId));
  if (!status) throw notFound();
  return { board, supplier: supplierOf(state, status.supplier), status };
}

function supplierOf(state: State, id: string): Supplier {
  return state.suppliers.get(id) ?? { id, name: `Leverancier ${id}`, contactEmail: "" };
}

function waitingFor(status: AgreementStatus): WaitingFor {
  if (status.state === "offered") return "beoordelaar";
  if (status.state === "approved") return "ondertekenaar";
  if (status.state === "rejected") return "leverancier";
  return null;
}

/** The header's view of the logged-in person. */
export function pageUser(state: State, principal: Principal): PageUser {
  const organisation = boardOf(state, principal)?.name ??
    state.suppliers.get(principal.organisation)?.name ?? `KvK ${principal.organisation}`;
  const roles: string[] = [...principal.mandates];
  if (principal.supplier) roles.push("leverancier");
  if (principal.admin) roles.push("beheer");
  if (principal.auditor) roles.push("auditor");
  return { name: principal.name, organisation, roles };
}

function agreementUrl(command: { board: string; supplier: string }): string {
  return `/boards/${command.board}/agreements/${command.supplier}`;
}

function notFound(): HTTPException {
  return new HTTPException(404, { message: "Deze pagina of overeenkomst bestaat niet." });
}

async function decideOrThrow(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    decisionError(error);
  }
}

function decisionError(error: unknown): never {
  if (!(error instanceof DomainError)) throw error;
  throw new HTTPException(DOMAIN_ERROR_STATUS[error.code], { message: dutchMessage(error) });
}

function dutchMessage(error: DomainError): string {
  switch (error.code) {
    case "version_superseded":
      return "Er is intussen een nieuwere versie aangeboden. Bekijk de nieuwe versie.";
    case "content_mismatch":
      return "De inhoud die u zag, verschilt van de versie die nu voorligt. Bekijk de overeenkomst opnieuw.";
    case "not_approved":
      return "Deze versie is nog niet goedgekeurd en kan daarom niet worden ondertekend.";
    case "invalid_transition":
      return "Deze stap kan nu niet meer: de overeenkomst is intussen gewijzigd. Bekijk de actuele stand.";
    case "terms_not_accepted":
      return "Uw bestuur moet eerst de gebruiksvoorwaarden aanvaarden.";
    case "forbidden":
      return "U hebt niet de machtiging die hiervoor nodig is.";
    case "not_found":
      return "Deze overeenkomst bestaat niet.";
    default:
      return "Dat klopt niet helemaal. Controleer uw invoer.";
  }
}
