import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { activeApiKeys } from "../domain/api_keys.ts";
import type { ApiAccessTokens } from "./api_access_tokens.ts";
import {
  AssertionError,
  JWT_BEARER_ASSERTION_TYPE,
  verifyClientAssertion,
} from "./client_assertion.ts";
import { createJtiReplayCache, type JtiReplayCache } from "./jti_replay_cache.ts";
import type { Services } from "./services.ts";

/** Where the token endpoint is, below the public address. */
export const TOKEN_ENDPOINT_PATH = "/oauth/token";

/** What {@link createTokenEndpoint} needs. */
export interface TokenEndpointOptions {
  services: Services;
  tokens: ApiAccessTokens;
  /** The service's public address: `aud` is it or it plus {@link TOKEN_ENDPOINT_PATH}. */
  publicUrl: string;
  /** Seen assertion ids; a fresh cache when left out. */
  replay?: JtiReplayCache;
}

/** The RFC 6749 §5.2 errors the endpoint answers with. */
type TokenErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_grant_type"
  | "temporarily_unavailable";

const BODY_BYTES = 16 * 1024;
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

/**
 * The OAuth 2.0 token endpoint of the supplier API (RFC 6749 §4.4 with
 * RFC 7523 client assertions): POST {@link TOKEN_ENDPOINT_PATH} with
 * `grant_type=client_credentials` and a `client_assertion` signed with a key
 * the supplier registered gives an access token for five minutes. Errors are
 * RFC 6749 §5.2 JSON; nothing is cached.
 */
export function createTokenEndpoint(options: TokenEndpointOptions): Hono {
  const { services, tokens } = options;
  const replay = options.replay ?? createJtiReplayCache();
  const audiences = [options.publicUrl + TOKEN_ENDPOINT_PATH, options.publicUrl];
  const app = new Hono();

  app.post(
    TOKEN_ENDPOINT_PATH,
    bodyLimit({
      maxSize: BODY_BYTES,
      onError: (c) => tokenError(c, "invalid_request", `the body is over ${BODY_BYTES} bytes`),
    }),
    async (c) => {
      const form = await formOf(c);
      if (typeof form === "string") return tokenError(c, "invalid_request", form);
      const grantType = form.get("grant_type");
      if (grantType === null) return tokenError(c, "invalid_request", "grant_type is missing");
      if (grantType !== "client_credentials") {
        return tokenError(c, "unsupported_grant_type", "only client_credentials is supported");
      }
      const refusal = clientAuthenticationRefusal(c, form);
      if (refusal !== null) return tokenError(c, "invalid_client", refusal);
      try {
        const key = await verifyClientAssertion(form.get("client_assertion")!, {
          clientId: form.get("client_id") ?? undefined,
          activeKeys: (supplier) => activeApiKeys(services.store.state, supplier),
          audiences,
          replay,
          now: services.now(),
        });
        const issued = await tokens.issue(key);
        return c.json(
          { access_token: issued.token, token_type: "Bearer", expires_in: issued.expiresIn },
          200,
          NO_STORE,
        );
      } catch (error) {
        if (!(error instanceof AssertionError)) throw error;
        return tokenError(c, error.code, error.message);
      }
    },
  );

  return app;
}

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };

/** The form's parameters, or why it cannot be read (RFC 6749 §3.2: each at most once). */
async function formOf(c: Context): Promise<URLSearchParams | string> {
  if (!FORM_TYPE.test(c.req.header("Content-Type") ?? "")) {
    return "the body must be application/x-www-form-urlencoded";
  }
  const form = new URLSearchParams(await c.req.text());
  for (const name of new Set(form.keys())) {
    if (form.getAll(name).length > 1) return `parameter ${name} is sent more than once`;
  }
  return form;
}

/** Why the request's client authentication cannot be a client assertion, or null. */
function clientAuthenticationRefusal(c: Context, form: URLSearchParams): string | null {
  if (c.req.header("Authorization") !== undefined || form.has("client_secret")) {
    return "only private_key_jwt client authentication is supported, once per request";
  }
  const type = form.get("client_assertion_type");
  if (type === null || !form.get("client_assertion")) {
    return "send client_assertion_type and client_assertion (private_key_jwt, RFC 7523)";
  }
  if (type !== JWT_BEARER_ASSERTION_TYPE) {
    return `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`;
  }
  return null;
}

function tokenError(c: Context, error: TokenErrorCode, description: string): Response {
  const status = error === "invalid_client" ? 401 : error === "temporarily_unavailable" ? 503 : 400;
  return c.json({ error, error_description: description }, status, NO_STORE);
}
