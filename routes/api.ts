import { type Context, Hono, type MiddlewareHandler, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import type { Principal } from "../domain/actor.ts";
import { authorise, supplierTarget } from "../domain/authorisation.ts";
import { withdrawAgreement } from "../domain/decide_on_agreement.ts";
import { agreementKey, BoardId } from "../domain/ids.ts";
import { offerAgreement } from "../domain/offer_agreement.ts";
import type { SupplierAction } from "../domain/permissions.ts";
import type { AgreementStatus } from "../domain/state.ts";
import { type CompareOutcome, resolveComparison } from "./compare_pages.ts";
import { domainProblem } from "./domain_problem.ts";
import { IdempotencyIndex, requestSha256 } from "./idempotency.ts";
import { API_LIMITS, IdempotencyKey, OfferBody, VersionBody } from "./api_schemas.ts";
import { fieldProblems, problem } from "./problem.ts";
import type { Services } from "./services.ts";
import { readSameText } from "./supplier_ui.ts";
import { AuthError, bearerToken } from "./token_verifier.ts";

type Env = { Variables: { principal: Principal } };

/**
 * The supplier API (JSON, bearer tokens of the login broker). Every error is
 * an RFC 9457 problem document.
 */
export function createApi(services: Services, idempotency: IdempotencyIndex): Hono<Env> {
  const api = new Hono<Env>();
  const { store, now } = services;

  api.use(bodyLimit({
    maxSize: API_LIMITS.bodyBytes,
    onError: (c) =>
      problem(c, 413, "body_too_large", "The request body is too large", {
        detail: `A request body has at most ${API_LIMITS.bodyBytes} bytes`,
      }),
  }));
  api.use(async (c, next) => {
    try {
      c.set("principal", await services.verifyToken(bearerToken(c.req.header("Authorization"))));
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return problem(c, 401, error.code, "Authentication failed", {
        detail: error.message,
        headers: { "WWW-Authenticate": 'Bearer realm="akkoord", error="invalid_token"' },
      });
    }
    await next();
  });
  api.use("/offers", allowed("offer.create"));
  api.use("/agreements", allowed("agreement.read_as_supplier"));
  api.use("/agreements/:board", allowed("agreement.read_as_supplier"));
  api.use("/agreements/:board/withdraw", allowed("agreement.withdraw"));
  api.use("/agreements/:board/compare", allowed("agreement.read_as_supplier"));
  api.use("/same-text", allowed("agreement.read_as_supplier"));

  api.post("/offers", jsonBody, zValidator("json", OfferBody, validationHook), async (c) => {
    const principal = c.get("principal");
    const body = c.req.valid("json");
    const keyHeader = c.req.header("Idempotency-Key");
    const key = keyHeader === undefined ? undefined : IdempotencyKey.safeParse(keyHeader);
    if (key && !key.success) {
      return problem(c, 400, "invalid_idempotency_key", "The Idempotency-Key header is not valid", {
        detail:
          `An Idempotency-Key is 1 to ${API_LIMITS.idempotencyKeyCharacters} printable ASCII characters without spaces`,
      });
    }
    const fingerprint = requestSha256(body);
    const supplier = principal.organisation;
    const offerNow = async (idempotencyKey?: string): Promise<Response> => {
      const at = now();
      try {
        const { oid, result } = await store.transact((state) =>
          offerAgreement(state, {
            principal,
            supplier,
            ...body,
            at,
            ...(idempotencyKey
              ? { idempotency: { key: idempotencyKey, requestSha256: fingerprint } }
              : {}),
          })
        );
        if (idempotencyKey) {
          idempotency.record(supplier, idempotencyKey, {
            requestSha256: fingerprint,
            commit: oid,
            result,
            at,
          });
        }
        return c.json(result, statusOf(result));
      } catch (error) {
        return domainProblem(c, error);
      }
    };
    if (!key) return await offerNow();
    return await idempotency.exclusive(supplier, key.data, async () => {
      const replay = await idempotency.replay(supplier, key.data, fingerprint, body.boards, now());
      if (replay?.conflict) return keyReused(c, key.data);
      if (replay) {
        return c.json(replay.result, statusOf(replay.result), { "Idempotent-Replayed": "true" });
      }
      return await offerNow(key.data);
    });
  });

  api.get("/agreements", (c) => {
    const supplier = c.get("principal").organisation;
    const agreements = [...store.state.agreements.values()]
      .filter((status) => status.supplier === supplier)
      .map(statusResponse);
    return c.json({ agreements });
  });

  api.get("/agreements/:board", (c) => {
    const status = findStatus(c.req.param("board"), c.get("principal"));
    if (!status) return notFound(c, c.req.param("board"));
    return c.json(statusResponse(status));
  });

  api.get("/agreements/:board/compare", async (c) => {
    const status = findStatus(c.req.param("board"), c.get("principal"));
    const board = status && store.state.boards.get(status.board);
    if (!status || !board) return notFound(c, c.req.param("board"));
    const supplier = store.state.suppliers.get(status.supplier) ??
      { id: status.supplier, name: status.supplier, contactEmail: "" };
    try {
      const outcome = await resolveComparison(
        store,
        { board, supplier, status },
        c.req.query(),
        false,
      );
      return c.json(compareResponse(outcome));
    } catch (error) {
      if (!(error instanceof HTTPException)) throw error;
      const status = error.status === 404 ? 404 : 400;
      return problem(
        c,
        status,
        status === 404 ? "not_found" : "invalid_version",
        "Cannot compare",
        {
          detail: `Cannot compare versions ${JSON.stringify(c.req.query())}: ${
            status === 404 ? "a version does not exist" : "a version is not a number"
          }`,
        },
      );
    }
  });

  api.get("/same-text", async (c) => {
    return c.json(await readSameText(store, c.get("principal").organisation));
  });

  api.post(
    "/agreements/:board/withdraw",
    jsonBody,
    zValidator("json", VersionBody, validationHook),
    async (c) => {
      const principal = c.get("principal");
      const board = BoardId.safeParse(c.req.param("board"));
      if (!board.success) return notFound(c, c.req.param("board"));
      try {
        const { result } = await store.transact((state) =>
          withdrawAgreement(state, {
            principal,
            board: board.data,
            supplier: principal.organisation,
            shown: c.req.valid("json"),
            at: now(),
          })
        );
        return c.json(statusResponse(result));
      } catch (error) {
        return domainProblem(c, error);
      }
    },
  );

  function findStatus(board: string, principal: Principal): AgreementStatus | undefined {
    return store.state.agreements.get(agreementKey(board, principal.organisation));
  }

  return api;
}

/**
 * Lets the request on only when the authorisation table allows `action` for
 * the supplier the token acts for; 403 otherwise.
 */
function allowed(action: SupplierAction): MiddlewareHandler<Env> {
  return async (c, next) => {
    const principal = c.get("principal");
    const decision = authorise(principal, action, supplierTarget(principal.organisation));
    if (!decision.allowed) {
      return problem(c, decision.status, "forbidden", "Not allowed", { detail: decision.reason });
    }
    await next();
  };
}

/** Refuses a body that is not JSON (415). */
async function jsonBody(c: Context<Env>, next: Next): Promise<Response | void> {
  if (!isJson(c.req.header("Content-Type"))) {
    return problem(c, 415, "unsupported_media_type", "The body must be JSON", {
      detail: "Send Content-Type: application/json",
    });
  }
  await next();
}

function validationHook(
  result: { success: true } | { success: false; error: z.core.$ZodError },
  c: Parameters<typeof problem>[0],
): Response | undefined {
  if (result.success) return undefined;
  return problem(c, 422, "validation_failed", "The request body is not valid", {
    errors: fieldProblems(result.error.issues),
  });
}

function keyReused(c: Parameters<typeof problem>[0], key: string): Response {
  return problem(
    c,
    422,
    "idempotency_key_reused",
    "The Idempotency-Key was used for another request",
    {
      detail: `Idempotency-Key "${key}" was used in the last 24 hours with a different body`,
    },
  );
}

function notFound(c: Parameters<typeof problem>[0], board: string): Response {
  return problem(c, 404, "not_found", "Not found", {
    detail: `You have no agreement with board "${board}"`,
  });
}

function isJson(contentType: string | undefined): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType ?? "");
}

function statusOf(result: { agreements: Array<{ outcome: string }> }): 200 | 201 {
  return result.agreements.some((a) => a.outcome === "offered") ? 201 : 200;
}

function statusResponse(status: AgreementStatus) {
  return {
    board: status.board,
    supplier: status.supplier,
    state: status.state,
    current: status.current,
    inForce: status.inForce ?? null,
    history: status.history.map(({ actor, ...entry }) => ({ ...entry, actor: actor.name })),
  };
}

/** The comparison as JSON: the pages' structure, or the reason there is none. */
function compareResponse(outcome: CompareOutcome) {
  return {
    from: outcome.chosen.from,
    to: outcome.chosen.to,
    versions: outcome.versions,
    comparison: outcome.comparison,
    model: outcome.model,
    ...(outcome.notice ? { notice: "There is only one version; nothing to compare" } : {}),
  };
}
