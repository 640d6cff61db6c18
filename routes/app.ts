import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ErrorPage, type ErrorStatus } from "../views/error_page.ts";
import { OutboxPage } from "../views/outbox_page.ts";
import { renderPage } from "../views/render.ts";
import type { AccessTokens } from "../store/access_tokens.ts";
import type { PackLog } from "../store/pack_log.ts";
import type { NotificationAddresses } from "../store/notification_addresses.ts";
import { SERVICE } from "../domain/authorisation.ts";
import { createAccessTokensUi } from "./access_tokens_ui.ts";
import {
  BOARD_REGISTRY_LIMITS,
  BOARD_REGISTRY_PATH,
  createBoardRegistryUi,
} from "./board_registry_ui.ts";
import { pageBodyLimit } from "./body_limit.ts";
import { createApi } from "./api.ts";
import { apiFallback, statusProblem } from "./api_fallback.ts";
import { createGitAuthenticator } from "./git_access.ts";
import { createGitHttp } from "./git_http.ts";
import { createInviteUi } from "./invite_ui.ts";
import { createNotificationsUi } from "./notifications_ui.ts";
import { createApiAccessTokens, withApiAccessTokens } from "./api_access_tokens.ts";
import { createApiKeysUi } from "./api_keys_ui.ts";
import { assetRoutes } from "./assets.ts";
import { requireAuthorised } from "./authorised.ts";
import type { IdempotencyIndex } from "./idempotency.ts";
import type { JtiReplayCache } from "./jti_replay_cache.ts";
import { OFFER_FORM_LIMITS } from "./offer_form.ts";
import { createTokenEndpoint, TOKEN_ENDPOINT_PATH } from "./oauth_token.ts";
import { problem } from "./problem.ts";
import { clientAddress, rateLimit } from "./rate_limit.ts";
import { routeList } from "./route_list.ts";
import type { Services } from "./services.ts";
import { csrfGuard, type Session, type Sessions } from "./session.ts";
import { createSupplierRegistryUi } from "./supplier_registry_ui.ts";
import { createSupplierUi } from "./supplier_ui.ts";
import { createUi, pageUser } from "./ui.ts";

/** The parts {@link createApp} puts together. */
export interface AppOptions {
  services: Services;
  sessions: Sessions;
  idempotency: IdempotencyIndex;
  /** The origin pages are served from; state-changing forms must come from it. */
  publicUrl: string;
  /** Login routes (/login, /auth/callback, /logout). */
  auth: Hono;
  /** The development broker, mounted at /dev-broker when on. */
  devBroker?: Hono;
  /** Show the local mail outbox at /dev/outbox. */
  showOutbox: boolean;
  /** Personal access tokens of auditors and administrators, managed at /tokens. */
  accessTokens: AccessTokens;
  /** Board people's own addresses for escalations, managed at /boards/:board/notifications. */
  notificationAddresses: NotificationAddresses;
  /** Where the history server keeps prepared pack entries; in memory when absent. */
  packLog?: PackLog;
  /** The seen client-assertion ids of the token endpoint; in memory when absent. */
  jtiReplay?: JtiReplayCache;
  /** Receives one structured line per request, and one per server error. */
  log?: (line: Record<string, unknown>) => void;
  /** Requests per minute per client address at the login and token endpoints. */
  rateLimits?: { loginPerMinute: number; tokenPerMinute: number };
  /** Invitations to suppliers a board may send per Europe/Amsterdam day; 10 when absent. */
  invitesPerDay?: number;
}

const ERROR_STATUSES = new Set([400, 401, 403, 404, 409, 413, 422, 500]);
const DEFAULT_RATE_LIMITS = { loginPerMinute: 60, tokenPerMinute: 300 };
const OFFER_FORMS = {
  pathname: "/suppliers/:supplier/offer{/*}?",
  maxBytes: OFFER_FORM_LIMITS.bodyBytes,
  advice: "Er is niets aangeboden. Maak de bestanden kleiner.",
};
const REGISTRY_FORMS = {
  pathname: `${BOARD_REGISTRY_PATH}{/*}?`,
  maxBytes: BOARD_REGISTRY_LIMITS.bodyBytes,
  advice: "Er is niets geregistreerd. Verdeel de lijst over kleinere bestanden.",
};
const PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";

/** The whole HTTP application: pages, supplier API, login and history files. */
export function createApp(options: AppOptions): Hono<{ Variables: { requestId: string } }> {
  const app = new Hono<{ Variables: { requestId: string } }>();
  const { services, sessions } = options;

  app.use(async (c, next) => {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    c.header("X-Request-Id", requestId);
    options.log?.({
      level: c.res.status >= 500 ? "error" : "info",
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    });
  });

  const https = options.publicUrl.startsWith("https://");
  app.use(async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    c.header("Cross-Origin-Opener-Policy", "same-origin");
    c.header("Permissions-Policy", PERMISSIONS_POLICY);
    if (https) c.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    if (c.res.headers.get("Content-Type")?.startsWith("text/html")) {
      c.header(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
    }
  });

  const limits = options.rateLimits ?? DEFAULT_RATE_LIMITS;
  for (const path of ["/login", "/auth/callback", "/dev-broker/authorize"]) {
    app.use(
      path,
      rateLimit({ key: clientAddress, limit: limits.loginPerMinute, windowMs: 60_000 }),
    );
  }
  for (const path of ["/dev-broker/token", "/oauth/token"]) {
    app.use(
      path,
      rateLimit({
        key: clientAddress,
        limit: limits.tokenPerMinute,
        windowMs: 60_000,
        format: "problem",
      }),
    );
  }

  app.route("/", assetRoutes());
  app.get(
    "/.well-known/akkoord/allowed_signers",
    (c) => c.text(services.store.allowedSigners(), 200, { "Cache-Control": "no-cache" }),
  );
  const apiTokens = createApiAccessTokens({ state: () => services.store.state, now: services.now });
  app.route(
    "/",
    createTokenEndpoint({
      services,
      tokens: apiTokens,
      publicUrl: options.publicUrl,
      ...(options.jtiReplay ? { replay: options.jtiReplay } : {}),
    }),
  );
  const verifyToken = withApiAccessTokens(apiTokens, services.verifyToken);
  app.route("/api/v1", createApi({ ...services, verifyToken }, options.idempotency));
  app.use("/api/*", apiFallback(routeList(app).filter((route) => route.path.startsWith("/api/"))));
  if (options.devBroker) {
    app.use("/dev-broker/*", pageBodyLimit());
    app.route("/dev-broker", options.devBroker);
  }
  app.route(
    "/history.git",
    createGitHttp({
      store: services.store,
      authenticate: createGitAuthenticator(options.accessTokens),
      packLog: options.packLog,
      warm: true,
    }),
  );

  // The API, the token endpoint and the history bound their own bodies above;
  // every other request is bounded here, before the CSRF guard reads a form.
  app.use("*", pageBodyLimit({ larger: [OFFER_FORMS, REGISTRY_FORMS] }));
  app.use("*", csrfGuard(options.publicUrl, sessions));
  app.route("/", options.auth);
  if (options.showOutbox) {
    app.get("/dev/outbox", async (c) => {
      requireAuthorised((await sessions.read(c))?.principal ?? null, "outbox.read", SERVICE);
      await services.outbox.catchUp();
      return c.html(renderPage(OutboxPage({
        mails: (await services.outbox.list()).map((mail) => ({ id: mail.idempotencyKey, ...mail })),
      })));
    });
  }
  app.route(
    "/",
    createAccessTokensUi({
      tokens: options.accessTokens,
      sessions,
      services,
      publicUrl: options.publicUrl,
    }),
  );
  app.route(
    "/",
    createApiKeysUi({ services, sessions, tokenUrl: options.publicUrl + TOKEN_ENDPOINT_PATH }),
  );
  app.route(
    "/",
    createNotificationsUi({ services, sessions, addresses: options.notificationAddresses }),
  );
  app.route(
    "/",
    createInviteUi({
      services,
      sessions,
      ...(options.invitesPerDay ? { perDay: options.invitesPerDay } : {}),
    }),
  );
  app.route("/", createSupplierUi({ services, sessions }));
  app.route("/", createBoardRegistryUi({ services, sessions }));
  app.route("/", createSupplierRegistryUi({ services, sessions }));
  app.route("/", createUi(services, sessions));

  app.notFound(async (c) => {
    if (c.req.path.startsWith("/api/")) {
      return problem(c, 404, "not_found", "Not found", { detail: `No route ${c.req.path}` });
    }
    const session = await sessions.read(c);
    return errorPage(404, undefined, session);
  });

  app.onError(async (error, c) => {
    const status = error instanceof HTTPException ? error.status : 500;
    if (status >= 500) {
      options.log?.({
        level: "error",
        requestId: c.get("requestId"),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
    if (c.req.path.startsWith("/api/")) {
      return statusProblem(c, status, error instanceof HTTPException ? error.message : undefined);
    }
    const session = await sessions.read(c);
    const detail = status < 500 && error instanceof HTTPException ? error.message : undefined;
    return errorPage(status, detail, session);
  });

  return app;

  function errorPage(
    status: number,
    detail: string | undefined,
    session: Session | null,
  ): Response {
    const shown = (ERROR_STATUSES.has(status) ? status : 500) as ErrorStatus;
    const user = session ? pageUser(services.store.state, session.principal) : undefined;
    const body = renderPage(
      ErrorPage({
        status: shown,
        ...(detail ? { detail } : {}),
        ...(user && session ? { user, csrf: session.csrf } : {}),
      }),
    );
    return new Response(body, {
      status: shown,
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  }
}
