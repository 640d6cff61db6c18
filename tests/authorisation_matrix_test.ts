import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import type { Mandate, Principal } from "../domain/actor.ts";
import {
  type Action,
  type ActionRule,
  ACTIONS,
  AUTHORISATION,
  authorise,
  boardTarget,
  SERVICE,
  supplierTarget,
  type Target,
} from "../domain/authorisation.ts";
import { PDF_FILE_PATTERN } from "../routes/agreement_pdf.ts";
import {
  agreementStatus,
  BOARD,
  offer,
  OTHER_BOARD,
  SUPPLIER,
  TERMS_FORM,
} from "./helpers/board_flow.ts";
import {
  brokerSignedToken,
  Browser,
  type LoginChoice,
  sampleOffer,
  startTestService,
  supplierToken,
  type TestService,
} from "./helpers/service.ts";

/** The second demo supplier, which has no agreement with {@link BOARD}. */
const OTHER_SUPPLIER = "99000002";
/** A board the suppliers offer to during the walk, so {@link BOARD}'s agreement stays as it is. */
const OFFER_BOARD = "41282";

const PERSONAS = [
  "anonymous",
  "reviewer",
  "signatory",
  "both",
  "otherBoard",
  "supplier",
  "otherSupplier",
  "admin",
  "auditor",
] as const;
type PersonaName = (typeof PERSONAS)[number];

/** Someone who uses the service: how they log in, and what the login should make of them. */
interface Persona {
  name: PersonaName;
  /** The development broker's login page choice; none for the anonymous visitor. */
  login?: LoginChoice;
  /** The principal the login yields, written out by hand. */
  principal: Principal | null;
  /** The ServiceIDs a bearer token for the supplier API carries. */
  apiServices: Array<keyof TestService["server"]["config"]["services"]>;
}

function person(
  organisation: string,
  name: string,
  roles: { mandates?: Mandate[]; supplier?: boolean; admin?: boolean; auditor?: boolean },
): Principal {
  return {
    subject: name,
    name,
    organisation,
    assurance: "urn:etoegang:core:assurance-class:loa3",
    mandates: roles.mandates ?? [],
    supplier: roles.supplier ?? false,
    admin: roles.admin ?? false,
    auditor: roles.auditor ?? false,
  };
}

const PEOPLE: Record<PersonaName, Persona> = {
  anonymous: { name: "anonymous", principal: null, apiServices: [] },
  reviewer: {
    name: "reviewer",
    login: { organisation: BOARD.kvk, name: "Rita Beoordelaar", mandates: ["beoordelen"] },
    principal: person(BOARD.kvk, "Rita Beoordelaar", { mandates: ["beoordelen"] }),
    apiServices: ["beoordelen"],
  },
  signatory: {
    name: "signatory",
    login: { organisation: BOARD.kvk, name: "Sander Tekenaar", mandates: ["ondertekenen"] },
    principal: person(BOARD.kvk, "Sander Tekenaar", { mandates: ["ondertekenen"] }),
    apiServices: ["ondertekenen"],
  },
  both: {
    name: "both",
    login: {
      organisation: BOARD.kvk,
      name: "Bo Beide",
      mandates: ["beoordelen", "ondertekenen"],
    },
    principal: person(BOARD.kvk, "Bo Beide", { mandates: ["beoordelen", "ondertekenen"] }),
    apiServices: ["beoordelen", "ondertekenen"],
  },
  otherBoard: {
    name: "otherBoard",
    login: {
      organisation: OTHER_BOARD.kvk,
      name: "Olga Anderbestuur",
      mandates: ["beoordelen", "ondertekenen"],
    },
    principal: person(OTHER_BOARD.kvk, "Olga Anderbestuur", {
      mandates: ["beoordelen", "ondertekenen"],
    }),
    apiServices: ["beoordelen", "ondertekenen"],
  },
  supplier: {
    name: "supplier",
    login: { organisation: SUPPLIER, name: "Sam Leverancier", mandates: [] },
    principal: person(SUPPLIER, "Sam Leverancier", { supplier: true }),
    apiServices: ["leverancier"],
  },
  otherSupplier: {
    name: "otherSupplier",
    login: { organisation: OTHER_SUPPLIER, name: "Rik Rekenrijk", mandates: [] },
    principal: person(OTHER_SUPPLIER, "Rik Rekenrijk", { supplier: true }),
    apiServices: ["leverancier"],
  },
  admin: {
    name: "admin",
    login: { organisation: DEMO_OPERATOR_KVK, name: "Ada Beheer", mandates: ["beheer"] },
    principal: person(DEMO_OPERATOR_KVK, "Ada Beheer", { admin: true }),
    apiServices: ["beheer"],
  },
  auditor: {
    name: "auditor",
    login: { organisation: DEMO_OPERATOR_KVK, name: "Otto Controle", mandates: ["auditor"] },
    principal: person(DEMO_OPERATOR_KVK, "Otto Controle", { auditor: true }),
    apiServices: ["audit"],
  },
};

/**
 * How a case reaches the app: a page or a form of a logged-in browser (forms
 * carry the page's CSRF token and Origin), the supplier API with a bearer
 * token, Git's HTTP protocol with a personal access token, or a door open to
 * everybody that the browser uses with its cookies.
 */
type Door = "page" | "form" | "api" | "git" | "open";

/** The status a permitted persona gets: one for all, or one per persona. */
type Outcome = number | ({ default: number } & Partial<Record<PersonaName, number>>);

/** One route and method of the app, and what it takes to be let through. */
interface RouteCase {
  method: string;
  /** The path pattern the app registers. */
  route: string;
  /** The concrete path requested. */
  path: string;
  door: Door;
  /** The action of the authorisation table; null for routes outside it (login, assets). */
  action: Action | null;
  /** What the action is done to; a function when it is the requester's own organisation. */
  target: Target | ((principal: Principal | null) => Target);
  /** The status when the table allows it. */
  allowed: Outcome;
  /** Form fields, a JSON body, or a raw body with its content type. */
  fields?: Record<string, string>;
  json?: (persona: Persona) => Promise<unknown>;
  raw?: { type: string; body: string };
  /** The case ends the persona's sessions; it runs last, with a login of its own. */
  endsSession?: true;
}

const STALE = { version: "99", oid: "0".repeat(40), contentSha256: "0".repeat(64) };
const BOARD_AGREEMENT = `/boards/${BOARD.id}/agreements/${SUPPLIER}`;
const ON_BOARD = boardTarget({ kvk: BOARD.kvk });
const ON_SUPPLIER = supplierTarget(SUPPLIER);
/** The API and the keys shortcut act for the supplier the login is for. */
const OWN_SUPPLIER = (principal: Principal | null) => supplierTarget(principal?.organisation ?? "");

async function offerBody(persona: Persona): Promise<unknown> {
  const body = await sampleOffer([OFFER_BOARD], "Matrixovereenkomst");
  const kvk = persona.principal?.organisation ?? SUPPLIER;
  body.products = body.products.map((product) => ({
    ...(product as Record<string, unknown>),
    supplier: { ...(product as { supplier: Record<string, unknown> }).supplier, kvk },
  }));
  return body;
}

const CASES: RouteCase[] = [
  openRoute("GET", "/assets/utrecht.css", 200),
  openRoute("GET", "/assets/tokens.css", 200),
  openRoute("GET", "/assets/app.css", 200),
  openRoute("GET", "/.well-known/akkoord/allowed_signers", 200),
  {
    ...openRoute("POST", "/oauth/token", 400),
    raw: { type: "application/x-www-form-urlencoded", body: "grant_type=password" },
  },
  {
    method: "POST",
    route: "/api/v1/offers",
    path: "/api/v1/offers",
    door: "api",
    action: "offer.create",
    target: OWN_SUPPLIER,
    allowed: 201,
    json: offerBody,
  },
  {
    method: "GET",
    route: "/api/v1/agreements",
    path: "/api/v1/agreements",
    door: "api",
    action: "agreement.read_as_supplier",
    target: OWN_SUPPLIER,
    allowed: 200,
  },
  {
    method: "GET",
    route: "/api/v1/agreements/:board",
    path: `/api/v1/agreements/${BOARD.id}`,
    door: "api",
    action: "agreement.read_as_supplier",
    target: OWN_SUPPLIER,
    allowed: { default: 200, otherSupplier: 404 },
  },
  {
    method: "POST",
    route: "/api/v1/agreements/:board/withdraw",
    path: `/api/v1/agreements/${BOARD.id}/withdraw`,
    door: "api",
    action: "agreement.withdraw",
    target: OWN_SUPPLIER,
    allowed: { default: 409, otherSupplier: 404 },
    json: () =>
      Promise.resolve({
        version: 99,
        oid: STALE.oid,
        contentSha256: STALE.contentSha256,
      }),
  },
  openRoute("GET", "/dev-broker/.well-known/openid-configuration", 200),
  openRoute("GET", "/dev-broker/jwks", 200),
  openRoute("GET", "/dev-broker/authorize", 400),
  { ...openRoute("POST", "/dev-broker/authorize", 400), raw: formBody("x=1") },
  { ...openRoute("POST", "/dev-broker/token", 400), raw: formBody("grant_type=password") },
  openRoute("GET", "/dev-broker/userinfo", 401),
  openRoute("POST", "/dev-broker/userinfo", 401),
  openRoute("GET", "/login", 303),
  openRoute("GET", "/auth/callback", 400),
  { ...openRoute("GET", "/", { default: 303, anonymous: 200 }) },
  {
    method: "GET",
    route: "/dev/outbox",
    path: "/dev/outbox",
    door: "page",
    action: "outbox.read",
    target: SERVICE,
    allowed: 200,
  },
  page("GET", "/tokens", "/tokens", "tokens.manage", SERVICE, 200),
  {
    ...page("POST", "/tokens", "/tokens", "tokens.manage", SERVICE, 200),
    door: "form",
    fields: { label: "Matrix", days: "1" },
  },
  {
    ...page(
      "POST",
      "/tokens/:id/revoke",
      "/tokens/AAAAAAAAAAAAAAAA/revoke",
      "tokens.manage",
      SERVICE,
      404,
    ),
    door: "form",
    fields: {},
  },
  page("GET", "/keys", "/keys", "supplier_keys.manage", OWN_SUPPLIER, 303),
  page(
    "GET",
    "/suppliers/:supplier/keys",
    `/suppliers/${SUPPLIER}/keys`,
    "supplier_keys.manage",
    ON_SUPPLIER,
    200,
  ),
  {
    ...page(
      "POST",
      "/suppliers/:supplier/keys",
      `/suppliers/${SUPPLIER}/keys`,
      "supplier_keys.manage",
      ON_SUPPLIER,
      422,
    ),
    door: "form",
    fields: { label: "", jwk: "" },
  },
  {
    ...page(
      "POST",
      "/suppliers/:supplier/keys/:thumbprint/revoke",
      `/suppliers/${SUPPLIER}/keys/${"A".repeat(43)}/revoke`,
      "supplier_keys.manage",
      ON_SUPPLIER,
      404,
    ),
    door: "form",
    fields: {},
  },
  page("GET", "/admin", "/admin", "admin.read", SERVICE, 200),
  page("GET", "/admin/mail", "/admin/mail", "admin.read", SERVICE, 200),
  page("GET", "/admin/besturen", "/admin/besturen", "registry.manage", SERVICE, 200),
  {
    ...page(
      "POST",
      "/admin/besturen/controleren",
      "/admin/besturen/controleren",
      "registry.manage",
      SERVICE,
      422,
    ),
    door: "form",
    fields: { csv: "" },
  },
  {
    ...page("POST", "/admin/besturen", "/admin/besturen", "registry.manage", SERVICE, 422),
    door: "form",
    fields: { csv: "", fingerprint: "" },
  },
  page("GET", "/admin/leveranciers", "/admin/leveranciers", "registry.manage", SERVICE, 200),
  {
    ...page("POST", "/admin/leveranciers", "/admin/leveranciers", "registry.manage", SERVICE, 422),
    door: "form",
    fields: { kvk: "", name: "", contactEmail: "" },
  },
  page("GET", "/boards/:board", `/boards/${BOARD.id}`, "board.read", ON_BOARD, 200),
  {
    ...page(
      "POST",
      "/boards/:board/terms",
      `/boards/${BOARD.id}/terms`,
      "board.accept_terms",
      ON_BOARD,
      303,
    ),
    door: "form",
    fields: TERMS_FORM,
  },
  page(
    "GET",
    "/boards/:board/agreements/:supplier",
    BOARD_AGREEMENT,
    "agreement.read",
    ON_BOARD,
    200,
  ),
  page(
    "GET",
    `/boards/:board/agreements/:supplier/versions/:file{${PDF_FILE_PATTERN}}`,
    `${BOARD_AGREEMENT}/versions/1.pdf`,
    "agreement.download",
    ON_BOARD,
    200,
  ),
  {
    ...page(
      "POST",
      "/boards/:board/agreements/:supplier/approve",
      `${BOARD_AGREEMENT}/approve`,
      "agreement.approve",
      ON_BOARD,
      409,
    ),
    door: "form",
    fields: STALE,
  },
  {
    ...page(
      "POST",
      "/boards/:board/agreements/:supplier/reject",
      `${BOARD_AGREEMENT}/reject`,
      "agreement.reject",
      ON_BOARD,
      409,
    ),
    door: "form",
    fields: { ...STALE, reason: "Matrix" },
  },
  // The matrix's agreement waits for review: a permitted signatory is told
  // it cannot be signed yet (409), everyone else is refused as the table says.
  page(
    "GET",
    "/boards/:board/agreements/:supplier/sign",
    `${BOARD_AGREEMENT}/sign`,
    "agreement.sign",
    ON_BOARD,
    409,
  ),
  {
    ...page(
      "POST",
      "/boards/:board/agreements/:supplier/sign",
      `${BOARD_AGREEMENT}/sign`,
      "agreement.sign",
      ON_BOARD,
      409,
    ),
    door: "form",
    fields: { ...STALE, confirm: "on" },
  },
  page("GET", "/suppliers/:supplier", `/suppliers/${SUPPLIER}`, "supplier.read", ON_SUPPLIER, 200),
  page(
    "GET",
    "/boards/:board/agreements/:supplier/compare",
    `${BOARD_AGREEMENT}/compare`,
    "agreement.read",
    ON_BOARD,
    200,
  ),
  page(
    "GET",
    "/admin/compare",
    `/admin/compare?board=${BOARD.id}&supplier=${SUPPLIER}`,
    "admin.read",
    SERVICE,
    200,
  ),
  {
    method: "GET",
    route: "/api/v1/agreements/:board/compare",
    path: `/api/v1/agreements/${BOARD.id}/compare`,
    door: "api",
    action: "agreement.read_as_supplier",
    target: OWN_SUPPLIER,
    allowed: { default: 200, otherSupplier: 404 },
  },
  page(
    "GET",
    "/boards/:board/notifications",
    `/boards/${BOARD.id}/notifications`,
    "notifications.manage",
    ON_BOARD,
    200,
  ),
  {
    ...page(
      "POST",
      "/boards/:board/notifications",
      `/boards/${BOARD.id}/notifications`,
      "notifications.manage",
      ON_BOARD,
      422,
    ),
    door: "form",
    fields: { email: "" },
  },
  {
    ...page(
      "POST",
      "/boards/:board/notifications/remove",
      `/boards/${BOARD.id}/notifications/remove`,
      "notifications.manage",
      ON_BOARD,
      303,
    ),
    door: "form",
    fields: {},
  },
  page(
    "GET",
    "/boards/:board/invite",
    `/boards/${BOARD.id}/invite`,
    "supplier.invite",
    ON_BOARD,
    200,
  ),
  {
    ...page(
      "POST",
      "/boards/:board/invite",
      `/boards/${BOARD.id}/invite`,
      "supplier.invite",
      ON_BOARD,
      422,
    ),
    door: "form",
    fields: { supplierName: "", email: "", message: "" },
  },
  page(
    "GET",
    "/suppliers/:supplier/offer",
    `/suppliers/${SUPPLIER}/offer`,
    "offer.create",
    ON_SUPPLIER,
    200,
  ),
  page(
    "GET",
    "/suppliers/:supplier/offer/product",
    `/suppliers/${SUPPLIER}/offer/product`,
    "offer.create",
    ON_SUPPLIER,
    200,
  ),
  {
    ...page(
      "POST",
      "/suppliers/:supplier/offer/preview",
      `/suppliers/${SUPPLIER}/offer/preview`,
      "offer.create",
      ON_SUPPLIER,
      422,
    ),
    door: "form",
    fields: { mode: "full", title: "" },
  },
  {
    ...page(
      "POST",
      "/suppliers/:supplier/offer",
      `/suppliers/${SUPPLIER}/offer`,
      "offer.create",
      ON_SUPPLIER,
      422,
    ),
    door: "form",
    fields: { mode: "full", title: "" },
  },
  page(
    "GET",
    "/suppliers/:supplier/same-text",
    `/suppliers/${SUPPLIER}/same-text`,
    "supplier.read",
    ON_SUPPLIER,
    200,
  ),
  {
    method: "GET",
    route: "/api/v1/same-text",
    path: "/api/v1/same-text",
    door: "api",
    action: "agreement.read_as_supplier",
    target: OWN_SUPPLIER,
    allowed: 200,
  },
  { ...openRoute("POST", "/logout", 303), door: "form", fields: {}, endsSession: true },
  { ...openRoute("POST", "/logout/everywhere", 303), door: "form", fields: {}, endsSession: true },
];

/** Cases of Git's HTTP protocol, walked when the app serves /history.git. */
const GIT_CASES: RouteCase[] = [
  git("GET", "/history.git/info/refs", "/history.git/info/refs?service=git-upload-pack", 200),
  {
    ...git("POST", "/history.git/git-upload-pack", "/history.git/git-upload-pack", 200),
    raw: { type: "application/x-git-upload-pack-request", body: "0000" },
  },
  {
    ...git("POST", "/history.git/git-receive-pack", "/history.git/git-receive-pack", 403),
    raw: { type: "application/x-git-receive-pack-request", body: "0000" },
  },
  git("ALL", "/history.git/*", "/history.git/HEAD", 404),
];

/**
 * The expected status per persona, written by hand from the README's
 * description of the roles, independently of the table in the code:
 * anonymous, reviewer, signatory, both, another board, supplier, another
 * supplier, admin, auditor.
 */
const BY_HAND: Record<string, string> = {
  "POST /api/v1/offers": "401 403 403 403 403 201 201 403 403",
  "GET /api/v1/agreements": "401 403 403 403 403 200 200 403 403",
  "GET /api/v1/agreements/:board": "401 403 403 403 403 200 404 403 403",
  "POST /api/v1/agreements/:board/withdraw": "401 403 403 403 403 409 404 403 403",
  "GET /dev/outbox": "200 200 200 200 200 200 200 200 200",
  "GET /": "200 303 303 303 303 303 303 303 303",
  "GET /tokens": "401 403 403 403 403 403 403 200 200",
  "POST /tokens": "403 403 403 403 403 403 403 200 200",
  "POST /tokens/:id/revoke": "403 403 403 403 403 403 403 404 404",
  "GET /keys": "401 403 403 403 403 303 303 403 403",
  "GET /suppliers/:supplier/keys": "401 403 403 403 403 200 403 403 403",
  "POST /suppliers/:supplier/keys": "403 403 403 403 403 422 403 403 403",
  "POST /suppliers/:supplier/keys/:thumbprint/revoke": "403 403 403 403 403 404 403 403 403",
  "GET /admin": "401 403 403 403 403 403 403 200 403",
  "GET /admin/mail": "401 403 403 403 403 403 403 200 403",
  "GET /admin/besturen": "401 403 403 403 403 403 403 200 403",
  "POST /admin/besturen/controleren": "403 403 403 403 403 403 403 422 403",
  "POST /admin/besturen": "403 403 403 403 403 403 403 422 403",
  "GET /admin/leveranciers": "401 403 403 403 403 403 403 200 403",
  "POST /admin/leveranciers": "403 403 403 403 403 403 403 422 403",
  "GET /boards/:board": "401 200 200 200 403 403 403 200 403",
  "POST /boards/:board/terms": "403 303 303 303 403 403 403 403 403",
  "GET /boards/:board/agreements/:supplier": "401 200 200 200 403 403 403 200 403",
  [`GET /boards/:board/agreements/:supplier/versions/:file{${PDF_FILE_PATTERN}}`]:
    "401 200 200 200 403 403 403 200 403",
  "POST /boards/:board/agreements/:supplier/approve": "403 409 403 409 403 403 403 403 403",
  "POST /boards/:board/agreements/:supplier/reject": "403 409 403 409 403 403 403 403 403",
  "GET /boards/:board/agreements/:supplier/sign": "401 403 409 409 403 403 403 403 403",
  "POST /boards/:board/agreements/:supplier/sign": "403 403 409 409 403 403 403 403 403",
  "GET /suppliers/:supplier": "401 403 403 403 403 200 403 200 403",
  "GET /boards/:board/agreements/:supplier/compare": "401 200 200 200 403 403 403 200 403",
  "GET /admin/compare": "401 403 403 403 403 403 403 200 403",
  "GET /api/v1/agreements/:board/compare": "401 403 403 403 403 200 404 403 403",
  "GET /boards/:board/notifications": "401 200 200 200 403 403 403 403 403",
  "POST /boards/:board/notifications": "403 422 422 422 403 403 403 403 403",
  "POST /boards/:board/notifications/remove": "403 303 303 303 403 403 403 403 403",
  "GET /boards/:board/invite": "401 200 200 200 403 403 403 403 403",
  "POST /boards/:board/invite": "403 422 422 422 403 403 403 403 403",
  "GET /suppliers/:supplier/offer": "401 403 403 403 403 200 403 403 403",
  "GET /suppliers/:supplier/offer/product": "401 403 403 403 403 200 403 403 403",
  "POST /suppliers/:supplier/offer/preview": "403 403 403 403 403 422 403 403 403",
  "POST /suppliers/:supplier/offer": "403 403 403 403 403 422 403 403 403",
  "GET /suppliers/:supplier/same-text": "401 403 403 403 403 200 403 200 403",
  "GET /api/v1/same-text": "401 403 403 403 403 200 200 403 403",
  "POST /logout": "403 303 303 303 303 303 303 303 303",
  "GET /history.git/info/refs": "401 401 401 401 401 401 401 200 200",
  "POST /history.git/git-receive-pack": "401 401 401 401 401 401 401 403 403",
};

function openRoute(method: string, path: string, allowed: Outcome): RouteCase {
  return { method, route: path, path, door: "open", action: null, target: SERVICE, allowed };
}

function page(
  method: string,
  route: string,
  path: string,
  action: Action,
  target: RouteCase["target"],
  allowed: Outcome,
): RouteCase {
  return { method, route, path, door: "page", action, target, allowed };
}

function git(method: string, route: string, path: string, allowed: number): RouteCase {
  return { method, route, path, door: "git", action: "history.clone", target: SERVICE, allowed };
}

function formBody(body: string): { type: string; body: string } {
  return { type: "application/x-www-form-urlencoded", body };
}

function keyOf(route: { method: string; route?: string; path: string }): string {
  return `${route.method} ${route.route ?? route.path}`;
}

function statusWhenAllowed(kase: RouteCase, persona: Persona): number {
  if (typeof kase.allowed === "number") return kase.allowed;
  return kase.allowed[persona.name] ?? kase.allowed.default;
}

/** Who the request is from, as the door sees it. */
function principalAtDoor(kase: RouteCase, persona: Persona): Principal | null {
  // Git authenticates with an access token, which only token managers can make.
  if (kase.door === "git") {
    return persona.principal && tokenHolder(persona.principal) ? persona.principal : null;
  }
  return persona.principal;
}

function tokenHolder(principal: Principal): boolean {
  return authorise(principal, "tokens.manage", SERVICE).allowed;
}

/** The status the code's authorisation table leads to. */
function expectedFromTable(kase: RouteCase, persona: Persona): number {
  // The app-wide CSRF guard refuses every form without a session before any route runs.
  if (kase.door === "form" && persona.principal === null) return 403;
  if (kase.action === null) return statusWhenAllowed(kase, persona);
  const principal = principalAtDoor(kase, persona);
  const target = typeof kase.target === "function" ? kase.target(principal) : kase.target;
  const decision = authorise(principal, kase.action, target);
  return decision.allowed ? statusWhenAllowed(kase, persona) : decision.status;
}

function expectedByHand(kase: RouteCase, persona: Persona): number | undefined {
  const row = BY_HAND[keyOf(kase)];
  if (row === undefined) return undefined;
  const statuses = row.trim().split(/\s+/).map(Number);
  assert.equal(statuses.length, PERSONAS.length, `the hand-written row of ${keyOf(kase)}`);
  return statuses[PERSONAS.indexOf(persona.name)];
}

/** A persona's ways in: a logged-in browser, a bearer token, a Git access token. */
interface Credentials {
  browser: Browser;
  bearer?: string;
  gitToken?: string;
}

async function credentialsOf(service: TestService, persona: Persona): Promise<Credentials> {
  const browser = new Browser(service.url);
  if (!persona.login) return { browser };
  await logIn(browser, persona);
  const services = service.server.config.services;
  const bearer = persona.principal?.supplier
    ? await supplierToken(service, persona.principal.organisation)
    : await brokerSignedToken(service, {
      "urn:etoegang:core:LegalSubjectID": persona.login.organisation,
      "urn:etoegang:core:ServiceID": persona.apiServices.map((name) => services[name]),
    });
  const gitToken = persona.principal && tokenHolder(persona.principal)
    ? await accessToken(browser)
    : undefined;
  return { browser, bearer, ...(gitToken ? { gitToken } : {}) };
}

async function logIn(browser: Browser, persona: Persona): Promise<void> {
  const landed = await browser.login(persona.login!);
  assert.equal(landed.status, 303, `${persona.name} logs in`);
  await landed.body?.cancel();
  // Any page with the logged-in header carries the CSRF token, a refusal page too.
  const { html } = await browser.page(`/boards/${BOARD.id}`);
  assert.match(html, /name="_csrf"/, `${persona.name} has a CSRF token`);
}

async function accessToken(browser: Browser): Promise<string> {
  await browser.page("/tokens");
  const response = await browser.submit("/tokens", { label: "Matrix git", days: "1" });
  const secret = (await response.text()).match(/akk_[A-Za-z0-9_-]{43}/)?.[0];
  assert.ok(secret, "a token manager gets an access token");
  return secret;
}

async function send(
  service: TestService,
  kase: RouteCase,
  persona: Persona,
  credentials: Credentials,
): Promise<Response> {
  const { browser } = credentials;
  if (kase.door === "form") return await browser.submit(kase.path, kase.fields ?? {});
  const headers = new Headers();
  let body: string | undefined;
  if (kase.raw) {
    headers.set("Content-Type", kase.raw.type);
    body = kase.raw.body;
  }
  if (kase.json) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(await kase.json(persona));
  }
  if (kase.door === "api" && credentials.bearer) {
    headers.set("Authorization", `Bearer ${credentials.bearer}`);
  }
  if (kase.door === "git" && credentials.gitToken) {
    headers.set("Authorization", `Basic ${btoa(`matrix:${credentials.gitToken}`)}`);
  }
  const method = kase.method === "ALL" ? "GET" : kase.method;
  if (kase.door === "api" || kase.door === "git") {
    return await fetch(new URL(kase.path, service.url), {
      method,
      headers,
      body,
      redirect: "manual",
    });
  }
  return await browser.request(kase.path, { method, headers, ...(body ? { body } : {}) });
}

async function withMatrixService(
  fn: (service: TestService) => void | Promise<void>,
): Promise<void> {
  const service = await startTestService({
    AKKOORD_RATE_LIMIT_LOGIN_PER_MINUTE: "10000",
    AKKOORD_RATE_LIMIT_TOKEN_PER_MINUTE: "10000",
  });
  try {
    await fn(service);
  } finally {
    await service.close();
  }
}

function casesFor(service: TestService): RouteCase[] {
  const served = new Set(service.server.routes.map(keyOf));
  const git = GIT_CASES.filter((kase) => served.has(keyOf(kase)));
  return [...CASES, ...git];
}

Deno.test("every route the app serves is in the authorisation matrix, and only those", () =>
  withMatrixService((service) => {
    const served = service.server.routes.map(keyOf).sort();
    const listed = casesFor(service).map(keyOf).sort();
    assert.deepEqual(
      served.filter((route) => !listed.includes(route)),
      [],
      "routes without a matrix entry",
    );
    assert.deepEqual(
      listed.filter((route) => !served.includes(route)),
      [],
      "matrix entries the app does not serve",
    );
  }));

Deno.test("every action of the table is reached through some route", () =>
  withMatrixService((service) => {
    const reached = new Set(casesFor(service).map((kase) => kase.action));
    // Until the app mounts /history.git, cloning has no route to reach it through.
    const servesGit = service.server.routes.some((route) => route.path.startsWith("/history.git"));
    const unreached = ACTIONS.filter((action) =>
      !reached.has(action) && (servesGit || action !== "history.clone")
    );
    assert.deepEqual(unreached, [], "actions no route asks about");
  }));

Deno.test("the table's hand-written expectations agree with the code's table", () => {
  const everyone = [...CASES, ...GIT_CASES].filter((kase) => BY_HAND[keyOf(kase)] !== undefined);
  assert.ok(everyone.length >= 20);
  for (const kase of everyone) {
    for (const name of PERSONAS) {
      const persona = PEOPLE[name];
      assert.equal(
        expectedFromTable(kase, persona),
        expectedByHand(kase, persona),
        `${keyOf(kase)} for ${name}`,
      );
    }
  }
});

Deno.test("every persona on every route gets the status the authorisation table says", () =>
  withMatrixService(async (service) => {
    assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
    assert.equal((await agreementStatus(service, BOARD.id)).state, "offered");
    const cases = casesFor(service);
    const last = cases.filter((kase) => kase.endsSession);
    const first = cases.filter((kase) => !kase.endsSession);
    const mismatches: string[] = [];
    for (const name of PERSONAS) {
      const persona = PEOPLE[name];
      const credentials = await credentialsOf(service, persona);
      for (const kase of first) {
        mismatches.push(...await check(service, kase, persona, credentials));
      }
      for (const kase of last) {
        const fresh = { browser: new Browser(service.url) };
        if (persona.login) await logIn(fresh.browser, persona);
        mismatches.push(...await check(service, kase, persona, fresh));
      }
    }
    assert.deepEqual(mismatches, []);
    assert.equal(
      (await agreementStatus(service, BOARD.id)).state,
      "offered",
      "no refused or stale decision changed the agreement",
    );
  }));

async function check(
  service: TestService,
  kase: RouteCase,
  persona: Persona,
  credentials: Credentials,
): Promise<string[]> {
  const response = await send(service, kase, persona, credentials);
  await response.body?.cancel();
  const table = expectedFromTable(kase, persona);
  const hand = expectedByHand(kase, persona);
  const problems: string[] = [];
  if (response.status !== table) {
    problems.push(`${keyOf(kase)} as ${persona.name}: ${response.status}, table says ${table}`);
  }
  if (hand !== undefined && response.status !== hand) {
    problems.push(`${keyOf(kase)} as ${persona.name}: ${response.status}, by hand ${hand}`);
  }
  return problems;
}

Deno.test("authorise: 401 without a login, 403 with the wrong one, public actions for all", () => {
  const reviewer = PEOPLE.reviewer.principal!;
  assert.deepEqual(authorise(reviewer, "agreement.approve", ON_BOARD), { allowed: true });
  const anonymous = authorise(null, "agreement.approve", ON_BOARD);
  assert.equal(anonymous.allowed, false);
  assert.equal(!anonymous.allowed && anonymous.status, 401);
  const wrongBoard = authorise(
    reviewer,
    "agreement.approve",
    boardTarget({ kvk: OTHER_BOARD.kvk }),
  );
  assert.equal(!wrongBoard.allowed && wrongBoard.status, 403);
  assert.match(!wrongBoard.allowed ? wrongBoard.reason : "", /agreement\.approve.*01082181/);
  assert.deepEqual(authorise(null, "outbox.read", SERVICE), { allowed: true });
  const noRole = { ...reviewer, mandates: [] };
  assert.equal(authorise(noRole, "board.read", ON_BOARD).allowed, false);
});

Deno.test("every grant's scope fits its action's target", () => {
  const fits: Record<string, ActionRule["target"][]> = {
    "own-board": ["board"],
    "own-supplier": ["supplier"],
    any: ["service", "board", "supplier"],
  };
  for (const action of ACTIONS) {
    const rule: ActionRule = AUTHORISATION[action];
    if (rule.allow === "anyone") continue;
    assert.ok(rule.allow.length > 0, `${action} has grants`);
    for (const grant of rule.allow) {
      assert.ok(fits[grant.scope]!.includes(rule.target), `${action}: ${grant.scope}`);
    }
  }
});

Deno.test("the README's table of who may do what is the code's table", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  assert.deepEqual(readmeRows(readme), ACTIONS.map(renderedRow));
});

/** One row as the README writes it: action, what it does, who may. */
function renderedRow(action: Action): string[] {
  const rule: ActionRule = AUTHORISATION[action];
  const who = rule.allow === "anyone"
    ? "anyone, without logging in"
    : rule.allow.map((grant) => `${grant.roles.join(", ")}: ${grant.scope.replace("-", " ")}`)
      .join("; ");
  return [`\`${action}\``, rule.does, who + (rule.developmentOnly ? " (development only)" : "")];
}

function readmeRows(readme: string): string[][] {
  const start = readme.indexOf("### Who may do what");
  assert.notEqual(start, -1, 'the README has a section "Who may do what"');
  const lines = readme.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split("|").map((cell) => cell.trim()));
  }
  return rows;
}
