/** One request the stand-in received at POST /emails. */
export interface ResendCall {
  idempotencyKey: string | null;
  authorization: string | null;
  body: Record<string, unknown>;
  /** When it arrived, in ms since the epoch. */
  at: number;
  /** The status it was answered with; null while unanswered (a hang). */
  status: number | null;
}

/** A mail the stand-in accepted: "delivered", once per idempotency key. */
export interface DeliveredMail {
  id: string;
  idempotencyKey: string | null;
  from: unknown;
  to: unknown;
  subject: unknown;
  text: unknown;
  html: unknown;
}

/**
 * How to answer a request instead of accepting it: `429` with Retry-After
 * seconds, `500`, `422` (permanent), or `hang`: accept the mail, then never
 * answer, as when the response is lost.
 */
export type Failure =
  | { kind: "429"; retryAfterSeconds: number }
  | { kind: "500" }
  | { kind: "422" }
  | { kind: "hang" };

/** A running stand-in for Resend's POST /emails on 127.0.0.1. */
export interface ResendStandin {
  url: string;
  calls: ResendCall[];
  delivered: DeliveredMail[];
  /** Answers the next requests with these failures, one each, in order. */
  failNext(...failures: Failure[]): void;
  /** Answers every request to `to` with `failure` (null: stop). */
  failFor(to: string, failure: Failure | null): void;
  /** Resolves when `count` calls match `filter`; rejects after `timeoutMs`. */
  waitFor(filter: (call: ResendCall) => boolean, count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const KEY_LIMIT = 256;

/**
 * Starts a stand-in for Resend's API. Like Resend, it requires a bearer key,
 * keeps the first answer per Idempotency-Key and returns it again for the
 * same request, refuses a different request under a used key (409
 * `invalid_idempotent_request`) and keys longer than 256 characters, and
 * validates `to` and `subject`.
 */
export function startResendStandin(): Promise<ResendStandin> {
  const calls: ResendCall[] = [];
  const delivered: DeliveredMail[] = [];
  const queue: Failure[] = [];
  const perRecipient = new Map<string, Failure>();
  const byKey = new Map<string, { body: string; id: string }>();
  const hanging = new Set<() => void>();

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/emails") {
      return json(404, { statusCode: 404, name: "not_found", message: "Not found" });
    }
    const raw = await request.text();
    const body = JSON.parse(raw) as Record<string, unknown>;
    const call: ResendCall = {
      idempotencyKey: request.headers.get("Idempotency-Key"),
      authorization: request.headers.get("Authorization"),
      body,
      at: Date.now(),
      status: null,
    };
    calls.push(call);
    const response = await answer(call, raw, request);
    call.status = response.status;
    return response;
  }

  async function answer(call: ResendCall, raw: string, request: Request): Promise<Response> {
    if (!call.authorization?.startsWith("Bearer re_")) {
      return json(401, { statusCode: 401, name: "missing_api_key", message: "Missing API key" });
    }
    const key = call.idempotencyKey;
    if (key !== null && (key.length === 0 || key.length > KEY_LIMIT)) {
      return json(400, {
        statusCode: 400,
        name: "invalid_idempotency_key",
        message: "The key must be between 1-256 chars.",
      });
    }
    const invalid = validationError(call.body);
    if (invalid) return json(422, { statusCode: 422, name: "validation_error", message: invalid });
    const to = Array.isArray(call.body.to) ? String(call.body.to[0]) : String(call.body.to);
    const failure = queue.shift() ?? perRecipient.get(to);
    if (failure && failure.kind !== "hang") return failed(failure);
    const earlier = key === null ? undefined : byKey.get(key);
    if (earlier && earlier.body !== raw) {
      return json(409, {
        statusCode: 409,
        name: "invalid_idempotent_request",
        message: "Same idempotency key used with a different request payload.",
      });
    }
    if (!earlier) {
      const id = crypto.randomUUID();
      if (key !== null) byKey.set(key, { body: raw, id });
      delivered.push({ id, idempotencyKey: key, ...pick(call.body) });
      if (failure?.kind === "hang") return await hang(request);
      return json(200, { id });
    }
    if (failure?.kind === "hang") return await hang(request);
    return json(200, { id: earlier.id });
  }

  /** Never answers; the request's signal ends it when the client goes away. */
  function hang(request: Request): Promise<Response> {
    return new Promise((resolve) => {
      const end = () => {
        hanging.delete(end);
        resolve(new Response(null, { status: 499 }));
      };
      hanging.add(end);
      request.signal.addEventListener("abort", end, { once: true });
    });
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handle);
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}`,
    calls,
    delivered,
    failNext: (...failures) => void queue.push(...failures),
    failFor: (to, failure) =>
      void (failure ? perRecipient.set(to, failure) : perRecipient.delete(to)),
    async waitFor(filter, count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (calls.filter(filter).length < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `Resend stand-in: expected ${count} matching calls within ${timeoutMs} ms, got ${
              calls.filter(filter).length
            }`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      for (const end of [...hanging]) end();
      await server.shutdown();
    },
  });
}

function failed(failure: Exclude<Failure, { kind: "hang" }>): Response {
  if (failure.kind === "429") {
    return json(
      429,
      { statusCode: 429, name: "rate_limit_exceeded", message: "Too many requests" },
      { "Retry-After": String(failure.retryAfterSeconds) },
    );
  }
  if (failure.kind === "500") {
    return json(500, {
      statusCode: 500,
      name: "internal_server_error",
      message: "An unexpected error occurred.",
    });
  }
  return json(422, {
    statusCode: 422,
    name: "validation_error",
    message: "The recipient's domain does not accept mail.",
  });
}

function validationError(body: Record<string, unknown>): string | null {
  const to = body.to;
  const recipients = Array.isArray(to) ? to : [to];
  if (recipients.length === 0 || recipients.length > 50) return "Invalid `to` field.";
  for (const recipient of recipients) {
    if (typeof recipient !== "string" || /[\r\n]/.test(recipient)) return "Invalid `to` field.";
  }
  if (typeof body.subject !== "string" || /[\r\n]/.test(body.subject)) {
    return "Invalid `subject` field.";
  }
  if (typeof body.from !== "string" || /[\r\n]/.test(body.from)) return "Invalid `from` field.";
  return null;
}

function pick(body: Record<string, unknown>) {
  return { from: body.from, to: body.to, subject: body.subject, text: body.text, html: body.html };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}
