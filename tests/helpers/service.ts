import { calculateJwkThumbprint, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import { type Server, startServer } from "../../server.ts";
import { devBrokerKey, withTestStore } from "./test_store.ts";

/** A running Akkoord on 127.0.0.1 with its own data directory. */
export interface TestService {
  url: string;
  dir: string;
  server: Server;
  /** Log lines the service wrote. */
  log: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Starts the real service (demo data, development login) on a free port,
 * with its history on the backend of this test run (see test_store.ts)
 * unless `env` sets AKKOORD_STORE.
 */
export async function startTestService(
  env: Record<string, string> = {},
  dir?: string,
  options: { now?: () => Date } = {},
): Promise<TestService> {
  const dataDir = dir ?? await Deno.makeTempDir({ prefix: "akkoord-test-" });
  const log: Array<Record<string, unknown>> = [];
  const server = await startServer(
    {
      AKKOORD_DATA_DIR: dataDir,
      AKKOORD_PORT: "0",
      AKKOORD_HOSTNAME: "127.0.0.1",
      ...await withTestStore(dataDir, env),
    },
    { log: (line) => log.push(line), ...(options.now ? { now: options.now } : {}) },
  );
  return {
    url: server.url,
    dir: dataDir,
    server,
    log,
    async close() {
      await server.close();
      if (!dir) await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** A supplier's API token from the development broker's token endpoint. */
export async function supplierToken(service: TestService, kvk: string): Promise<string> {
  const response = await fetch(`${service.url}/dev-broker/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: kvk }),
  });
  if (!response.ok) throw new Error(`Token request failed: ${await response.text()}`);
  return (await response.json()).access_token;
}

/**
 * Signs a token with the development broker's own key, with the claims given
 * on top of valid defaults, for tests of what the verifier refuses.
 */
export async function brokerSignedToken(
  service: TestService,
  claims: JWTPayload,
  header: { alg?: string; kid?: string } = {},
): Promise<string> {
  const jwk = JSON.parse(await devBrokerKey(service.dir)) as JWK;
  const { d: _d, ...publicPart } = jwk;
  const key = await importJWK(jwk, "ES256");
  const kid = header.kid ?? await calculateJwkThumbprint(publicPart);
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({
    iss: service.server.config.oidc.issuer,
    aud: service.server.config.oidc.clientId,
    iat: now,
    nbf: now,
    exp: now + 600,
    sub: "test-subject",
    name: "Test Leverancier",
    acr: "urn:etoegang:core:assurance-class:loa3",
    "urn:etoegang:core:ActingSubjectID": "test-subject",
    "urn:etoegang:core:LegalSubjectID": "99000001",
    "urn:etoegang:core:ServiceID": [service.server.config.services.leverancier],
    ...claims,
  }).setProtectedHeader({ alg: header.alg ?? "ES256", kid, typ: "JWT" }).sign(key);
}

/** What a person picks on the development broker's login page. */
export interface LoginChoice {
  organisation: string;
  name: string;
  mandates: Array<"beoordelen" | "ondertekenen" | "beheer" | "auditor">;
  assurance?: "loa2" | "loa2plus" | "loa3" | "loa4";
}

/** A browser without JavaScript: follows the login flow and keeps cookies. */
export class Browser {
  #cookies = new Map<string, string>();
  #url: string;
  /** The CSRF token of the last page that carried one. */
  csrf = "";

  constructor(url: string) {
    this.#url = url;
  }

  /** Logs in through /login, the broker's page and /auth/callback. */
  async login(choice: LoginChoice): Promise<Response> {
    const start = await this.request("/login");
    const authorize = new URL(start.headers.get("Location")!, this.#url);
    await (await this.request(authorize.pathname + authorize.search)).body?.cancel();
    const form = new URLSearchParams(authorize.searchParams);
    form.set("organisation", choice.organisation);
    form.set("name", choice.name);
    form.set("assurance", choice.assurance ?? "loa3");
    for (const mandate of choice.mandates) form.append("mandate", mandate);
    const granted = await this.request(authorize.pathname, { method: "POST", body: form });
    const callback = new URL(granted.headers.get("Location")!, this.#url);
    return await this.request(callback.pathname + callback.search);
  }

  /** The value of one of this browser's cookies. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Sets a cookie as if the server (or someone planting it) had. */
  setCookie(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  /** GETs a page and remembers its CSRF token. */
  async page(path: string): Promise<{ status: number; html: string }> {
    const response = await this.request(path);
    const html = await response.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (csrf) this.csrf = csrf;
    return { status: response.status, html };
  }

  /** POSTs a form as the service's own page would, with Origin and CSRF token. */
  async submit(path: string, fields: Record<string, string>): Promise<Response> {
    const body = new URLSearchParams({ _csrf: this.csrf, ...fields });
    return await this.request(path, { method: "POST", body, headers: { Origin: this.#url } });
  }

  /** A request with this browser's cookies; redirects are not followed. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) {
      headers.set("Cookie", [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const response = await fetch(new URL(path, this.#url), {
      ...init,
      headers,
      redirect: "manual",
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(";");
      const [name, ...value] = pair!.split("=");
      const expired = attributes.some((a) => /max-age=0\b/i.test(a.trim()));
      if (expired) this.#cookies.delete(name!.trim());
      else this.#cookies.set(name!.trim(), value.join("="));
    }
    return response;
  }
}

/** Reads a seed file of the project. */
export function seedFile(path: string): Promise<string> {
  return Deno.readTextFile(new URL(`../../seed/${path}`, import.meta.url));
}

/** A valid offer body for the first demo supplier, from the shipped sample. */
export async function sampleOffer(boards: string[], title = "Testovereenkomst"): Promise<{
  boards: string[];
  title: string;
  text: string;
  products: unknown[];
}> {
  return {
    boards,
    title,
    text: await seedFile("sample/verwerkersovereenkomst.md"),
    products: [JSON.parse(await seedFile("sample/products/schoolwijzer-lvs.json"))],
  };
}
