import { type Context, Hono } from "hono";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import {
  AUTH_ERROR_STATUS,
  AuthError,
  type AuthErrorCode,
  type TokenVerifier,
} from "./token_verifier.ts";
import {
  base64url,
  csrfGuard,
  equalInConstantTime,
  randomToken,
  type Sessions,
} from "./session.ts";

/** Settings of the login routes. */
export interface AuthRoutesOptions {
  verifier: TokenVerifier;
  sessions: Sessions;
  /** The broker's issuer URL; its discovery document is read from `/.well-known/openid-configuration`. */
  brokerIssuer: string;
  clientId: string;
  /** Our absolute callback URL, `<origin>/auth/callback`; its origin is also the CSRF origin. */
  redirectUri: string;
}

const Discovery = z.object({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  userinfo_endpoint: z.url().optional(),
});
type Discovery = z.infer<typeof Discovery>;

const TokenResponse = z.object({
  id_token: z.string().min(1),
  access_token: z.string().min(1).optional(),
});

/** What a person reads when a login is refused, per auth error code. */
export const AUTH_ERROR_MESSAGES_NL: Record<AuthErrorCode, string> = {
  token_missing: "Er is geen inlogbewijs ontvangen.",
  token_invalid: "Het inlogbewijs van de inlogdienst is ongeldig of onvolledig.",
  token_expired: "Het inlogbewijs is verlopen. Log opnieuw in.",
  token_not_yet_valid:
    "Het inlogbewijs is nog niet geldig. Controleer de klok en probeer het opnieuw.",
  token_wrong_audience: "Het inlogbewijs is voor een andere dienst bestemd.",
  token_wrong_issuer: "Het inlogbewijs komt van een onbekende inlogdienst.",
  token_bad_signature: "De ondertekening van het inlogbewijs klopt niet.",
  token_bad_algorithm: "Het inlogbewijs is op een niet-toegestane manier ondertekend.",
  assurance_too_low:
    "Uw eHerkenningsmiddel heeft een te laag betrouwbaarheidsniveau voor Akkoord. Log opnieuw in met een middel van een hoger niveau; uw eHerkenningsleverancier kan u daarbij helpen.",
  claims_missing: "De inlogdienst gaf niet alle gegevens door die Akkoord nodig heeft.",
  mandate_missing:
    "U bent wel herkend, maar uw eHerkenning geeft geen machtiging voor Akkoord. Vraag de beheerder van eHerkenning in uw organisatie om een machtiging voor de dienst die u nodig hebt: beoordelen of ondertekenen van verwerkersovereenkomsten (schoolbesturen), of de dienst voor leveranciers.",
  organisation_unsupported:
    "Uw organisatie is bij het inloggen aangeduid met een RSIN. Akkoord kent schoolbesturen en leveranciers alleen aan hun KvK-nummer. Log in met eHerkenning op het KvK-nummer van uw organisatie, of neem contact op met de beheerder van Akkoord.",
  userinfo_mismatch:
    "De gegevens van de inlogdienst horen niet bij dit inlogbewijs. Log opnieuw in.",
  userinfo_unavailable: "De inlogdienst geeft uw gegevens nu niet door. Probeer het later opnieuw.",
  keys_unavailable:
    "De sleutels van de inlogdienst zijn nu niet op te halen. Probeer het later opnieuw.",
};

/**
 * Creates the login routes: `GET /login` (OIDC authorization code flow with
 * PKCE S256 to the broker), `GET /auth/callback`, and the CSRF-checked
 * `POST /logout` and `POST /logout/everywhere` (every session of the person).
 */
export function createAuthRoutes(options: AuthRoutesOptions): Hono {
  const discovery = cachedDiscovery(options.brokerIssuer);
  const app = new Hono();

  app.get("/login", async (c) => {
    const broker = await discovery().catch(() => undefined);
    if (broker === undefined) {
      return loginFailed(
        c,
        "De inlogdienst is nu niet bereikbaar. Probeer het later opnieuw.",
        503,
      );
    }
    const state = { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken() };
    await options.sessions.saveLoginState(c, { ...state, next: localPath(c.req.query("next")) });
    return c.redirect(await authorizationUrl(broker, state, options), 303);
  });

  app.get("/auth/callback", async (c) => {
    const login = await options.sessions.takeLoginState(c);
    if (login === null) {
      return loginFailed(c, "Uw inlogpoging is verlopen of niet gevonden. Log opnieuw in.", 400);
    }
    if (c.req.query("error") !== undefined) {
      return loginFailed(c, "Het inloggen is afgebroken bij de inlogdienst.", 400);
    }
    const state = c.req.query("state") ?? "";
    const code = c.req.query("code") ?? "";
    if (!equalInConstantTime(state, login.state) || code === "") {
      return loginFailed(
        c,
        "Het antwoord van de inlogdienst hoort niet bij deze inlogpoging.",
        400,
      );
    }

    const tokens = await redeemCode(discovery, code, login.codeVerifier, options).catch(
      (error) => {
        throw brokerFailure(
          502,
          "De inlogdienst gaf geen geldig antwoord op de inlogpoging.",
          error,
        );
      },
    );
    try {
      const principal = await options.verifier.verifyLogin({ ...tokens, nonce: login.nonce });
      await options.sessions.start(c, principal);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return loginFailed(c, AUTH_ERROR_MESSAGES_NL[error.code], AUTH_ERROR_STATUS[error.code]);
    }
    return c.redirect(login.next, 303);
  });

  const guard = csrfGuard(new URL(options.redirectUri).origin, options.sessions);
  app.post("/logout", guard, async (c) => {
    await options.sessions.end(c);
    return c.redirect("/", 303);
  });

  app.post("/logout/everywhere", guard, async (c) => {
    await options.sessions.endEverywhere(c);
    return c.redirect("/", 303);
  });

  return app;
}

function cachedDiscovery(brokerIssuer: string): () => Promise<Discovery> {
  const issuer = brokerIssuer.replace(/\/+$/, "");
  let pending: Promise<Discovery> | undefined;
  return () => {
    pending ??= fetchDiscovery(issuer).catch((error) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function fetchDiscovery(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`, {
    headers: { accept: "application/json" },
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot read the broker's discovery document: HTTP ${response.status}`);
  }
  const discovery = Discovery.parse(await response.json());
  // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer we asked.
  if (discovery.issuer.replace(/\/+$/, "") !== issuer) {
    throw new Error(`Cannot trust the broker's discovery document: issuer "${discovery.issuer}"`);
  }
  return discovery;
}

async function authorizationUrl(
  broker: Discovery,
  state: { state: string; nonce: string; codeVerifier: string },
  options: AuthRoutesOptions,
): Promise<string> {
  const url = new URL(broker.authorization_endpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", "openid");
  url.searchParams.set("client_id", options.clientId);
  url.searchParams.set("redirect_uri", options.redirectUri);
  url.searchParams.set("state", state.state);
  url.searchParams.set("nonce", state.nonce);
  url.searchParams.set("code_challenge", await s256(state.codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.href;
}

async function redeemCode(
  discovery: () => Promise<Discovery>,
  code: string,
  codeVerifier: string,
  options: AuthRoutesOptions,
): Promise<{ idToken: string; accessToken?: string; userinfoEndpoint?: string }> {
  const broker = await discovery();
  const response = await fetch(broker.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: options.redirectUri,
      client_id: options.clientId,
      code_verifier: codeVerifier,
    }),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot exchange the authorization code: HTTP ${response.status}`);
  }
  const tokens = TokenResponse.parse(await response.json());
  return {
    idToken: tokens.id_token,
    ...(tokens.access_token === undefined ? {} : { accessToken: tokens.access_token }),
    ...(broker.userinfo_endpoint === undefined
      ? {}
      : { userinfoEndpoint: broker.userinfo_endpoint }),
  };
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// The lead's onError renders the Dutch message and can log the cause; a broker
// outage is an operational fault, unlike a refused login.
function brokerFailure(status: 502 | 503, message: string, cause: unknown): HTTPException {
  return new HTTPException(status, { message: `${message} Probeer het later opnieuw.`, cause });
}

// A path on this site only: one leading slash, then printable ASCII without
// backslashes. Anything else may be read as another host ("//evil", "/\\evil",
// a tab that URL parsers drop) or break the Location header (CR, LF).
const LOCAL_PATH = /^\/(?!\/)[\x21-\x5b\x5d-\x7e]*$/;
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

/** The `next` parameter when it names a path on this site, else the home page. */
function localPath(next: string | undefined): string {
  if (next === undefined || !LOCAL_PATH.test(next)) return "/";
  return next.includes("//") || ENCODED_CONTROL.test(next) ? "/" : next;
}

function loginFailed(
  c: Context,
  message: string,
  status: 400 | 401 | 403 | 503,
): Response | Promise<Response> {
  c.header("Cache-Control", "no-store");
  return c.html(
    html`<!doctype html>
<html lang="nl">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Inloggen mislukt – Akkoord</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/assets/app.css" />
  </head>
  <body class="utrecht-page utrecht-document">
    <main class="utrecht-page-content">
      <h1 class="utrecht-heading-1">Inloggen mislukt</h1>
      <p class="utrecht-paragraph">${message}</p>
      <p class="utrecht-paragraph"><a class="utrecht-link" href="/login">Opnieuw inloggen</a></p>
    </main>
  </body>
</html>`,
    status,
  );
}
