import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { importJWK } from "jose";
import { z } from "zod";
import {
  type AcceptedJwk,
  isThumbprint,
  JwkError,
  type JwkProblem,
  jwkThumbprint,
  MAX_JWK_CHARACTERS,
  parsePublicJwk,
} from "../domain/api_key_jwk.ts";
import {
  apiKeysOf,
  MAX_ACTIVE_API_KEYS,
  MAX_API_KEY_LABEL,
  registerApiKey,
  revokeApiKey,
} from "../domain/api_keys.ts";
import { DomainError } from "../domain/errors.ts";
import { hasVisibleContent, plainText } from "../domain/plain_text.ts";
import { apiKeyKey, SupplierId } from "../domain/ids.ts";
import { supplierTarget } from "../domain/authorisation.ts";
import type { ApiKey, Supplier } from "../domain/state.ts";
import { type ApiKeyRow, ApiKeysPage, type ApiKeysPageProps } from "../views/api_keys_page.ts";
import { renderPage } from "../views/render.ts";
import { requireAuthorised } from "./authorised.ts";
import { fieldErrors } from "./form_errors.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";

/** What {@link createApiKeysUi} needs. */
export interface ApiKeysUiOptions {
  services: Services;
  sessions: Sessions;
  /** The token endpoint, which the page shows as the audience of assertions. */
  tokenUrl: string;
}

const RegisterForm = z.object({
  label: z.string().transform(plainText).pipe(
    z.string().trim().min(1, "Geef de sleutel een naam.").max(
      MAX_API_KEY_LABEL,
      `Een naam heeft hoogstens ${MAX_API_KEY_LABEL} tekens.`,
    ).regex(/^[^\p{Cc}]*$/u, "Een naam staat op één regel.")
      .refine(hasVisibleContent, "Geef de sleutel een naam."),
  ),
  jwk: z.string().trim().min(1, "Plak de publieke sleutel als JWK.").max(
    MAX_JWK_CHARACTERS,
    `Een JWK heeft hoogstens ${MAX_JWK_CHARACTERS} tekens.`,
  ),
});

const JWK_MESSAGES: Record<JwkProblem, string> = {
  too_long: `Een JWK heeft hoogstens ${MAX_JWK_CHARACTERS} tekens.`,
  not_json: 'Dit is geen JSON. Plak de sleutel als JWK, bijvoorbeeld {"kty":"EC", …}.',
  not_an_object: "Een JWK is één JSON-object, geen lijst of losse waarde.",
  private_key:
    'Dit is een privésleutel (de JWK bevat "d"). Registreer alleen de publieke sleutel en houd de privésleutel geheim; maak een nieuw sleutelpaar als u hem ergens hebt gedeeld.',
  symmetric_key:
    'Dit is een symmetrische sleutel (kty "oct"). Akkoord aanvaardt alleen de publieke helft van een EC-, RSA- of Ed25519-sleutelpaar.',
  unsupported_key_type: "Alleen sleutels van het type EC, RSA of OKP (Ed25519) zijn mogelijk.",
  unsupported_curve: "Alleen de curves P-256 (EC) en Ed25519 (OKP) zijn mogelijk.",
  rsa_too_small: "Een RSA-sleutel moet minstens 2048 bits hebben.",
  rsa_too_large: "Een RSA-sleutel heeft hoogstens 8192 bits.",
  malformed_member: "Een onderdeel van de sleutel (x, y, n of e) is niet geldig.",
  not_on_curve:
    "Deze EC-sleutel is ongeldig: het punt (x, y) ligt niet op de curve P-256. Exporteer de publieke sleutel opnieuw uit uw sleutelpaar.",
  wrong_algorithm: "Het algoritme (alg) past niet bij dit soort sleutel.",
  not_for_signing: 'Deze sleutel is niet bedoeld voor ondertekenen (use is niet "sig").',
};

/**
 * The page where people acting for a supplier manage its API keys: GET
 * `/suppliers/:supplier/keys` (`/keys` leads to one's own), POST the same
 * path to register a public key,
 * POST `/suppliers/:supplier/keys/:thumbprint/revoke`. Only people logged in
 * for that supplier; forms are checked by the app-wide CSRF guard.
 */
export function createApiKeysUi(options: ApiKeysUiOptions): Hono {
  const { services, sessions } = options;
  const { store, now } = services;
  const ui = new Hono();

  ui.get("/keys", async (c) => {
    const session = await sessions.read(c);
    const own = session?.principal.organisation ?? "";
    requireAuthorised(session?.principal ?? null, "supplier_keys.manage", supplierTarget(own));
    return c.redirect(`/suppliers/${own}/keys`, 303);
  });

  ui.get("/suppliers/:supplier/keys", async (c) => {
    const { session, supplier } = await keyHolder(c);
    const registered = c.req.query("geregistreerd");
    const key = registered === undefined
      ? undefined
      : store.state.apiKeys.get(apiKeyKey(supplier.id, registered));
    return respond(
      c,
      pageProps(session, supplier, {
        ...(key ? { registered: key.label } : {}),
        revoked: c.req.query("ingetrokken") !== undefined,
      }),
    );
  });

  ui.post("/suppliers/:supplier/keys", async (c) => {
    const { session, supplier } = await keyHolder(c);
    const body = await c.req.parseBody();
    const values = { label: String(body["label"] ?? ""), jwk: String(body["jwk"] ?? "") };
    const refuse = (errors: Record<string, string>) =>
      respond(c, pageProps(session, supplier, { errors, values }), 422);
    const form = RegisterForm.safeParse(values);
    if (!form.success) return refuse(fieldErrors(form.error));
    const key = await acceptedKey(form.data.jwk);
    if (typeof key === "string") return refuse({ jwk: key });
    try {
      const { result } = await store.transact((state) =>
        registerApiKey(state, {
          principal: session.principal,
          supplier: supplier.id,
          label: form.data.label,
          key,
          at: now(),
        })
      );
      return c.redirect(`/suppliers/${supplier.id}/keys?geregistreerd=${result.thumbprint}`, 303);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const thumbprint = jwkThumbprint(key.jwk);
      const revoked = store.state.apiKeys.get(apiKeyKey(supplier.id, thumbprint))?.revoked;
      return refuse({ jwk: registrationMessage(error, revoked !== undefined) });
    }
  });

  ui.post("/suppliers/:supplier/keys/:thumbprint/revoke", async (c) => {
    const { session, supplier } = await keyHolder(c);
    const thumbprint = c.req.param("thumbprint");
    if (!isThumbprint(thumbprint)) throw unknownKey();
    try {
      await store.transact((state) =>
        revokeApiKey(state, {
          principal: session.principal,
          supplier: supplier.id,
          thumbprint,
          at: now(),
        })
      );
    } catch (error) {
      if (error instanceof DomainError && error.code === "not_found") throw unknownKey();
      throw error;
    }
    return c.redirect(`/suppliers/${supplier.id}/keys?ingetrokken`, 303);
  });

  /** The session of a person who may manage the keys of the supplier in the path. */
  async function keyHolder(c: Context): Promise<{ session: Session; supplier: Supplier }> {
    const session = await sessions.read(c);
    const id = c.req.param("supplier") ?? "";
    requireAuthorised(session?.principal ?? null, "supplier_keys.manage", supplierTarget(id));
    const supplier = SupplierId.safeParse(id).success ? store.state.suppliers.get(id) : undefined;
    if (!session || !supplier) {
      throw new HTTPException(404, { message: "Deze leverancier is niet bekend in Akkoord." });
    }
    return { session, supplier };
  }

  function pageProps(
    session: Session,
    supplier: Supplier,
    extra: Partial<ApiKeysPageProps>,
  ): ApiKeysPageProps {
    return {
      user: pageUser(store.state, session.principal),
      csrf: session.csrf,
      supplier: { id: supplier.id, name: supplier.name },
      keys: apiKeysOf(store.state, supplier.id).map(rowOf),
      tokenUrl: options.tokenUrl,
      maxActiveKeys: MAX_ACTIVE_API_KEYS,
      ...extra,
    };
  }

  return ui;
}

/** The accepted key, or the Dutch reason it is refused. */
async function acceptedKey(text: string): Promise<AcceptedJwk | string> {
  let key: AcceptedJwk;
  try {
    key = parsePublicJwk(text);
  } catch (error) {
    if (error instanceof JwkError) return JWK_MESSAGES[error.code];
    throw error;
  }
  try {
    await importJWK(key.jwk, key.algorithms[0]);
  } catch {
    return "Dit is geen bruikbare publieke sleutel: hij laat zich niet inlezen.";
  }
  return key;
}

function registrationMessage(error: DomainError, revoked: boolean): string {
  if (error.code === "duplicate") {
    return revoked
      ? "Deze sleutel is eerder ingetrokken en kan niet opnieuw worden geregistreerd. Maak een nieuw sleutelpaar."
      : "Deze sleutel is al geregistreerd.";
  }
  if (error.code === "invalid_input") {
    return `U hebt al ${MAX_ACTIVE_API_KEYS} actieve sleutels. Trek er eerst een in.`;
  }
  return "U mag geen sleutels registreren voor deze leverancier.";
}

function rowOf(key: ApiKey): ApiKeyRow {
  return {
    thumbprint: key.thumbprint,
    label: key.label,
    algorithms: key.algorithms,
    registeredAt: key.registered.at,
    registeredBy: key.registered.actor.name,
    ...(key.revoked ? { revokedAt: key.revoked.at, revokedBy: key.revoked.actor.name } : {}),
  };
}

function unknownKey(): HTTPException {
  return new HTTPException(404, {
    message: "Deze leverancier heeft geen sleutel met dit kenmerk.",
  });
}

function respond(c: Context, props: ApiKeysPageProps, status: 200 | 422 = 200): Response {
  return c.html(renderPage(ApiKeysPage(props)), status);
}
