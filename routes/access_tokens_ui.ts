import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { Principal } from "../domain/actor.ts";
import { SERVICE } from "../domain/authorisation.ts";
import { hasVisibleContent, plainText } from "../domain/plain_text.ts";
import {
  type AccessToken,
  type AccessTokenOwner,
  type AccessTokenRole,
  type AccessTokens,
  DEFAULT_TOKEN_DAYS,
  MAX_LABEL_LENGTH,
  MAX_TOKEN_DAYS,
} from "../store/access_tokens.ts";
import {
  type AccessTokenRow,
  AccessTokensPage,
  type AccessTokensPageProps,
} from "../views/access_tokens_page.ts";
import { renderPage } from "../views/render.ts";
import { authorisedSession } from "./authorised.ts";
import { fieldErrors } from "./form_errors.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";

/** What {@link createAccessTokensUi} needs. */
export interface AccessTokensUiOptions {
  tokens: AccessTokens;
  sessions: Sessions;
  services: Services;
  /** The service's public address; the clone command names it. */
  publicUrl: string;
}

const TOKEN_ID = /^[A-Za-z0-9_-]{16}$/;

const CreateForm = z.object({
  label: z.string().transform(plainText).pipe(
    z.string().trim().min(1, "Geef de sleutel een naam.").max(
      MAX_LABEL_LENGTH,
      `Een naam heeft hoogstens ${MAX_LABEL_LENGTH} tekens.`,
    ).refine(hasVisibleContent, "Geef de sleutel een naam."),
  ),
  days: z.string().trim().regex(/^\d{1,3}$/, `Kies een aantal dagen van 1 tot ${MAX_TOKEN_DAYS}.`)
    .transform(Number)
    .refine(
      (days) => days >= 1 && days <= MAX_TOKEN_DAYS,
      `Kies een aantal dagen van 1 tot ${MAX_TOKEN_DAYS}.`,
    ),
});

/**
 * The page where auditors and administrators manage the personal access tokens
 * with which they clone the history: GET `/tokens`, POST `/tokens` (create,
 * showing the secret once) and POST `/tokens/:id/revoke`. Everyone else gets
 * 403. Forms are checked by the app-wide CSRF guard.
 */
export function createAccessTokensUi(options: AccessTokensUiOptions): Hono {
  const { tokens, sessions, services } = options;
  const cloneUrl = `${options.publicUrl}/history.git`;
  const ui = new Hono();

  ui.get("/tokens", async (c) => {
    const session = await tokenHolder(c, sessions);
    return respond(c, pageProps(session, { revoked: c.req.query("ingetrokken") !== undefined }));
  });

  ui.post("/tokens", async (c) => {
    const session = await tokenHolder(c, sessions);
    const body = await c.req.parseBody();
    const values = { label: String(body["label"] ?? ""), days: String(body["days"] ?? "") };
    const form = CreateForm.safeParse(values);
    if (!form.success) {
      return respond(c, pageProps(session, { errors: fieldErrors(form.error), values }), 422);
    }
    const { principal } = session;
    const { token, secret } = await tokens.createToken({
      owner: {
        subject: principal.subject,
        name: principal.name,
        organisation: principal.organisation,
      },
      roles: rolesOf(principal),
      label: form.data.label,
      expiresInDays: form.data.days,
    });
    const created = { label: token.label, secret, expiresAt: token.expiresAt };
    return respond(c, pageProps(session, { created }));
  });

  ui.post("/tokens/:id/revoke", async (c) => {
    const session = await tokenHolder(c, sessions);
    const id = c.req.param("id");
    if (!TOKEN_ID.test(id) || !await tokens.revoke(id, ownerOf(session.principal))) {
      throw new HTTPException(404, { message: "U hebt geen toegangssleutel met dit kenmerk." });
    }
    return c.redirect("/tokens?ingetrokken", 303);
  });

  function pageProps(
    session: Session,
    extra: Partial<AccessTokensPageProps>,
  ): AccessTokensPageProps {
    const at = services.now().getTime();
    return {
      user: pageUser(services.store.state, session.principal),
      csrf: session.csrf,
      tokens: tokens.list(ownerOf(session.principal)).map((token) => rowOf(token, at)),
      cloneUrl,
      defaultDays: DEFAULT_TOKEN_DAYS,
      maxDays: MAX_TOKEN_DAYS,
      ...extra,
    };
  }

  return ui;
}

/** The session of an auditor or administrator; 401 without a login, 403 for anyone else. */
async function tokenHolder(c: Context, sessions: Sessions): Promise<Session> {
  return authorisedSession(await sessions.read(c), "tokens.manage", SERVICE);
}

function rolesOf(principal: Principal): AccessTokenRole[] {
  const roles: AccessTokenRole[] = [];
  if (principal.auditor) roles.push("auditor");
  if (principal.admin) roles.push("admin");
  return roles;
}

function ownerOf(principal: Principal): AccessTokenOwner {
  return { subject: principal.subject, organisation: principal.organisation };
}

function rowOf(token: AccessToken, at: number): AccessTokenRow {
  return {
    id: token.id,
    label: token.label,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    ...(token.lastUsedAt ? { lastUsedAt: token.lastUsedAt } : {}),
    expired: Date.parse(token.expiresAt) <= at,
  };
}

// The page may carry a secret, so no cache may keep it.
function respond(c: Context, props: AccessTokensPageProps, status: 200 | 422 = 200): Response {
  c.header("Cache-Control", "no-store");
  return c.html(renderPage(AccessTokensPage(props)), status);
}
