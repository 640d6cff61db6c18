import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { VNode } from "preact";
import { z } from "zod";
import type { Principal } from "../domain/actor.ts";
import { AGREEMENT_FILE, PRODUCTS_DIR } from "../domain/content.ts";
import {
  type AgreementCommand,
  approveAgreement,
  REASON_MAX_LENGTH,
  rejectAgreement,
  signAgreement,
} from "../domain/decide_on_agreement.ts";
import { DOMAIN_ERROR_STATUS, DomainError, type DomainErrorCode } from "../domain/errors.ts";
import { boardTarget, SERVICE, supplierTarget } from "../domain/authorisation.ts";
import { agreementKey, Oid, Sha256, SupplierId } from "../domain/ids.ts";
import { type BoardAction, boardOf } from "../domain/permissions.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import { acceptTerms, TERMS_VERSION } from "../domain/registry.ts";
import { daysWaiting, reminderFacts } from "../domain/reminders.ts";
import type { AgreementStatus, Board, State, Supplier } from "../domain/state.ts";
import { AdminOverviewPage } from "../views/admin_overview_page.ts";
import { AgreementPage } from "../views/agreement_page.ts";
import { ComparePage } from "../views/compare_page.ts";
import { defaultBase } from "../domain/compare_versions.ts";
import { compareModel } from "../domain/compare_model.ts";
import { resolveComparison } from "./compare_pages.ts";
import { BoardOverviewPage } from "../views/board_overview_page.ts";
import { HomePage } from "../views/home_page.ts";
import { OutboxPage } from "../views/outbox_page.ts";
import type { WaitingFor } from "../views/labels.ts";
import type { PageUser } from "../views/layout.ts";
import { renderMarkdown } from "../views/markdown.ts";
import { renderPage } from "../views/render.ts";
import { SignPage } from "../views/sign_page.ts";
import { SupplierOverviewPage } from "../views/supplier_overview_page.ts";
import { agreementPdfResponse, PDF_FILE_PATTERN } from "./agreement_pdf.ts";
import { isAuthorised, requireAuthorised } from "./authorised.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";

type Env = { Variables: { session: Session | null } };

/** The field error shown on the reject form for each refusal of the reason. */
const REASON_ERRORS: Partial<Record<DomainErrorCode, string>> = {
  reason_required: "Geef aan waarom u deze versie afwijst.",
  invalid_input: `Een reden heeft hoogstens ${REASON_MAX_LENGTH} tekens. Maak de reden korter.`,
};

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
    if (isAuthorised(principal, "admin.read", SERVICE)) return c.redirect("/admin", 303);
    const board = boardOf(store.state, principal);
    if (board && isAuthorised(principal, "board.read", boardTarget(board))) {
      return c.redirect(`/boards/${board.id}`, 303);
    }
    const supplier = store.state.suppliers.get(principal.organisation);
    if (supplier && isAuthorised(principal, "supplier.read", supplierTarget(supplier.id))) {
      return c.redirect(`/suppliers/${supplier.id}`, 303);
    }
    if (isAuthorised(principal, "tokens.manage", SERVICE)) return c.redirect("/tokens", 303);
    throw new HTTPException(403, {
      message:
        `Akkoord heeft niets voor uw organisatie (KvK ${principal.organisation}) met de machtigingen waarmee u inlogde.`,
    });
  });

  ui.get("/admin", (c) => {
    const session = requireSession(c);
    requireAuthorised(session.principal, "admin.read", SERVICE);
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
        canRegister: isAuthorised(session.principal, "registry.manage", SERVICE),
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  ui.get("/boards/:board", (c) => {
    const session = requireSession(c);
    const board = authorisedBoard(store.state, session, c.req.param("board"), "board.read");
    return page(c, boardOverview(session, board));
  });

  ui.post("/boards/:board/terms", async (c) => {
    const session = requireSession(c);
    const board = authorisedBoard(store.state, session, c.req.param("board"), "board.accept_terms");
    const errors = termsFormErrors(await c.req.parseBody());
    if (errors && !board.termsAccepted) return page(c, boardOverview(session, board, errors), 422);
    await decideOrThrow(() =>
      store.transact((state) =>
        acceptTerms(state, { principal: session.principal, board: board.id, at: now() })
      )
    );
    return c.redirect(`/boards/${board.id}`, 303);
  });

  function boardOverview(session: Session, board: Board, errors?: Record<string, string>): VNode {
    const rows = [...store.state.agreements.values()]
      .filter((status) => status.board === board.id)
      .map((status) => ({
        supplier: supplierOf(store.state, status.supplier),
        status,
        waitingFor: waitingFor(status),
      }))
      .sort((a, b) => a.supplier.name.localeCompare(b.supplier.name, "nl"));
    return BoardOverviewPage({
      board,
      rows,
      canAcceptTerms: isAuthorised(session.principal, "board.accept_terms", boardTarget(board)),
      canInvite: isAuthorised(session.principal, "supplier.invite", boardTarget(board)),
      termsVersion: TERMS_VERSION,
      csrf: session.csrf,
      user: pageUser(store.state, session.principal),
      ...(errors ? { errors } : {}),
    });
  }

  ui.get("/boards/:board/agreements/:supplier", async (c) => {
    const session = requireSession(c);
    return page(c, await agreementPage(session, c.req.param("board"), c.req.param("supplier")));
  });

  ui.get("/boards/:board/agreements/:supplier/compare", async (c) => {
    const session = requireSession(c);
    const agreement = authorisedAgreement(
      store.state,
      session,
      { board: c.req.param("board"), supplier: c.req.param("supplier") },
      "agreement.read",
    );
    const outcome = await resolveComparison(store, agreement, c.req.query(), false);
    const path = agreementUrl({ board: agreement.board.id, supplier: agreement.supplier.id });
    return page(
      c,
      ComparePage({
        heading:
          `Verwerkersovereenkomst van ${agreement.board.name} met ${agreement.supplier.name}`,
        ...outcome,
        formAction: `${path}/compare`,
        backHref: path,
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  ui.get("/admin/compare", async (c) => {
    const session = requireSession(c);
    requireAuthorised(session.principal, "admin.read", SERVICE);
    const { board: boardParam = "", supplier: supplierParam = "" } = c.req.query();
    const board = store.state.boards.get(boardParam);
    const status = store.state.agreements.get(agreementKey(boardParam, supplierParam));
    if (!board || !status) throw notFound();
    const agreement = { board, supplier: supplierOf(store.state, status.supplier), status };
    const outcome = await resolveComparison(store, agreement, c.req.query(), true);
    return page(
      c,
      ComparePage({
        heading: `Verwerkersovereenkomst van ${board.name} met ${agreement.supplier.name}`,
        ...outcome,
        formAction: "/admin/compare",
        hidden: { board: board.id, supplier: status.supplier },
        backHref: "/admin",
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  ui.get("/admin/mail", async (c) => {
    const session = requireSession(c);
    requireAuthorised(session.principal, "admin.read", SERVICE);
    await services.outbox.catchUp();
    const mails = (await services.outbox.list()).map((mail) => ({
      id: mail.idempotencyKey,
      ...mail,
    }));
    return page(
      c,
      OutboxPage({
        mails,
        audience: "admin",
        user: pageUser(store.state, session.principal),
        csrf: session.csrf,
      }),
    );
  });

  ui.get(`/boards/:board/agreements/:supplier/versions/:file{${PDF_FILE_PATTERN}}`, async (c) => {
    const session = requireSession(c);
    const path = { board: c.req.param("board"), supplier: c.req.param("supplier") };
    const agreement = authorisedAgreement(store.state, session, path, "agreement.download");
    return await agreementPdfResponse(store, agreement, c.req.param("file"));
  });

  ui.post("/boards/:board/agreements/:supplier/approve", async (c) => {
    const session = requireSession(c);
    const command = await agreementCommand(c, session, "agreement.approve");
    await decideOrThrow(() => store.transact((state) => approveAgreement(state, command)));
    return c.redirect(agreementUrl(command), 303);
  });

  ui.post("/boards/:board/agreements/:supplier/reject", async (c) => {
    const session = requireSession(c);
    const command = await agreementCommand(c, session, "agreement.reject");
    const reason = String((await c.req.parseBody())["reason"] ?? "");
    try {
      await store.transact((state) => rejectAgreement(state, { ...command, reason }));
    } catch (error) {
      const message = error instanceof DomainError ? REASON_ERRORS[error.code] : undefined;
      if (message === undefined) return decisionError(error);
      const form = { errors: { reason: message }, values: { reason } };
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
    const command = await agreementCommand(c, session, "agreement.sign");
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
    requireAuthorised(principal, "supplier.read", supplierTarget(supplier.id));
    const rows = [...store.state.agreements.values()]
      .filter((status) => status.supplier === supplier.id)
      .map((status) => ({
        board: store.state.boards.get(status.board)!,
        status,
        ...waitingFacts(store.state, status, now()),
      }))
      .filter((row) => row.board !== undefined)
      .sort((a, b) => a.board.name.localeCompare(b.board.name, "nl"));
    return page(
      c,
      SupplierOverviewPage({
        supplier,
        rows,
        user: pageUser(store.state, principal),
        csrf: session.csrf,
        canOffer: isAuthorised(principal, "offer.create", supplierTarget(supplier.id)),
      }),
    );
  });

  async function agreementPage(
    session: Session,
    boardParam: string,
    supplierParam: string,
    form?: { errors: Record<string, string>; values: Record<string, string> },
  ): Promise<VNode> {
    const { principal } = session;
    const { board, supplier, status } = authorisedAgreement(
      store.state,
      session,
      { board: boardParam, supplier: supplierParam },
      "agreement.read",
    );
    const files = await store.readTreeFiles(status.current.oid);
    const decoder = new TextDecoder();
    const text = files.find((file) => file.path === AGREEMENT_FILE);
    const products = files
      .filter((file) => file.path.startsWith(`${PRODUCTS_DIR}/`))
      .map((file) => JSON.parse(decoder.decode(file.content)) as Privacybijsluiter);
    const target = boardTarget(board);
    const accepted = board.termsAccepted !== undefined;
    const approver = accepted && isAuthorised(principal, "agreement.approve", target);
    const rejecter = accepted && isAuthorised(principal, "agreement.reject", target);
    return AgreementPage({
      board,
      supplier,
      status,
      agreementHtml: renderMarkdown(text ? decoder.decode(text.content) : ""),
      products,
      compareWith: defaultBase(status),
      model: compareModel(text ? decoder.decode(text.content) : "", {
        hasProducts: products.length > 0,
      }),
      actions: {
        approve: approver && status.state === "offered",
        reject: rejecter && (status.state === "offered" || status.state === "approved"),
        sign: accepted && isAuthorised(principal, "agreement.sign", target) &&
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
    const { board, supplier, status } = authorisedAgreement(
      store.state,
      session,
      { board: boardParam, supplier: supplierParam },
      "agreement.sign",
    );
    if (!board.termsAccepted) {
      decisionError(
        new DomainError("terms_not_accepted", `Board "${board.id}" has not accepted the terms`),
      );
    }
    if (status.state !== "approved") {
      decisionError(
        new DomainError(
          "not_approved",
          `Agreement "${board.id}/${supplier.id}" is ${status.state}`,
        ),
      );
    }
    return SignPage({
      board,
      supplier,
      status,
      csrf: session.csrf,
      user: pageUser(store.state, session.principal),
      ...(errors ? { errors } : {}),
    });
  }

  async function agreementCommand(
    c: Context,
    session: Session,
    action: BoardAction,
  ): Promise<AgreementCommand> {
    const board = authorisedBoard(store.state, session, c.req.param("board") ?? "", action);
    const supplier = SupplierId.safeParse(c.req.param("supplier"));
    if (!supplier.success) throw notFound();
    const form = VersionForm.safeParse(await c.req.parseBody());
    if (!form.success) {
      throw new HTTPException(400, {
        message: "Het formulier noemt geen geldige versie. Laad de pagina opnieuw.",
      });
    }
    return {
      principal: session.principal,
      board: board.id,
      supplier: supplier.data,
      shown: form.data,
      at: now(),
    };
  }

  return ui;
}

/**
 * The errors of a posted terms form: the checkbox must be ticked and the form
 * must name the terms version in force, or the person accepted other terms.
 */
function termsFormErrors(body: Record<string, unknown>): Record<string, string> | null {
  if (body["termsVersion"] !== TERMS_VERSION) {
    return {
      accept:
        `De gebruiksvoorwaarden zijn gewijzigd: versie ${TERMS_VERSION} geldt nu. Lees ze en aanvaard ze opnieuw.`,
    };
  }
  if (body["accept"] !== "ja") {
    return { accept: "Vink aan dat u de gebruiksvoorwaarden namens uw bestuur aanvaardt." };
  }
  return null;
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

/** The board named in the path, once the authorisation table allows `action` on it. */
function authorisedBoard(
  state: State,
  session: Session,
  id: string,
  action: BoardAction,
): Board {
  const board = state.boards.get(id);
  if (!board) throw notFound();
  requireAuthorised(session.principal, action, boardTarget(board));
  return board;
}

function authorisedAgreement(
  state: State,
  session: Session,
  path: { board: string; supplier: string },
  action: BoardAction,
): { board: Board; supplier: Supplier; status: AgreementStatus } {
  const board = authorisedBoard(state, session, path.board, action);
  const status = state.agreements.get(agreementKey(board.id, path.supplier));
  if (!status) throw notFound();
  return { board, supplier: supplierOf(state, status.supplier), status };
}

function supplierOf(state: State, id: string): Supplier {
  return state.suppliers.get(id) ?? { id, name: `Leverancier ${id}`, contactEmail: "" };
}

/** How long an agreement has waited on its board, and when it was reminded and escalated. */
function waitingFacts(state: State, status: AgreementStatus, at: Date) {
  const facts = reminderFacts(state, status);
  if (facts === null) return {};
  const { remindedAt, escalatedAt } = facts;
  return {
    waiting: {
      days: daysWaiting(facts.waiting, at),
      ...(remindedAt ? { remindedAt } : {}),
      ...(escalatedAt ? { escalatedAt } : {}),
    },
  };
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
