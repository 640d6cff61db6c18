import type { Context, MiddlewareHandler } from "hono";
import { html } from "hono/html";
import { problem } from "./problem.ts";

/** Settings of {@link rateLimit}. */
export interface RateLimitOptions {
  /** What is counted, e.g. the client's address ({@link clientAddress}). */
  key: (c: Context) => string;
  /** Requests allowed per key in one window. */
  limit: number;
  windowMs: number;
  /**
   * How a refusal reads: a Dutch page, or `application/problem+json`. When
   * left out, paths under `/api/` and `/oauth/` get problem+json.
   */
  format?: "page" | "problem";
  /** The clock in epoch milliseconds, for tests. */
  now?: () => number;
}

interface Window {
  startedAt: number;
  count: number;
}

/**
 * Counts requests per key in fixed windows, in memory, and refuses those
 * over the limit with 429 and `Retry-After`. Each call has its own counters,
 * so mount one per endpoint that needs its own budget.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  if (!Number.isInteger(options.limit) || options.limit < 1) {
    throw new RangeError(
      `Cannot limit requests to ${options.limit} per window: not a whole number`,
    );
  }
  const now = options.now ?? Date.now;
  const windows = new Map<string, Window>();
  let sweptAt = now();

  return async (c, next) => {
    const at = now();
    if (at - sweptAt >= options.windowMs) {
      sweepEnded(windows, at, options.windowMs);
      sweptAt = at;
    }
    const key = options.key(c);
    const current = windows.get(key);
    const window = current !== undefined && at - current.startedAt < options.windowMs
      ? current
      : { startedAt: at, count: 0 };
    window.count++;
    windows.set(key, window);
    if (window.count <= options.limit) return await next();

    const retryAfter = Math.max(1, Math.ceil((window.startedAt + options.windowMs - at) / 1000));
    return refuse(c, retryAfter, options.format ?? formatFor(c.req.path));
  };
}

/**
 * The address of the client on the other end of the connection, as Deno's
 * server passed it to `app.fetch(request, info)`; `"unknown"` without one.
 * Behind a reverse proxy this is the proxy's address.
 */
export function clientAddress(c: Context): string {
  const env: unknown = c.env;
  if (typeof env !== "object" || env === null || !("remoteAddr" in env)) return "unknown";
  const address: unknown = env.remoteAddr;
  if (typeof address !== "object" || address === null || !("hostname" in address)) {
    return "unknown";
  }
  return typeof address.hostname === "string" ? address.hostname : "unknown";
}

function sweepEnded(windows: Map<string, Window>, at: number, windowMs: number): void {
  for (const [key, window] of windows) {
    if (at - window.startedAt >= windowMs) windows.delete(key);
  }
}

function formatFor(path: string): "page" | "problem" {
  return path.startsWith("/api/") || path.startsWith("/oauth/") ? "problem" : "page";
}

function refuse(
  c: Context,
  retryAfter: number,
  format: "page" | "problem",
): Response | Promise<Response> {
  const headers = { "Retry-After": String(retryAfter), "Cache-Control": "no-store" };
  if (format === "problem") {
    return problem(c, 429, "rate_limited", "Too many requests", {
      detail: `Too many requests from this client; try again in ${retryAfter} seconds`,
      headers,
    });
  }
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.html(
    html`<!doctype html>
<html lang="nl">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Te veel pogingen – Akkoord</title>
    <link rel="stylesheet" href="/assets/app.css" />
  </head>
  <body class="utrecht-page utrecht-document">
    <main class="utrecht-page-content">
      <h1 class="utrecht-heading-1">Te veel pogingen</h1>
      <p class="utrecht-paragraph">
        Er kwamen in korte tijd te veel verzoeken van uw adres. Wacht ${retryAfter} seconden en
        probeer het dan opnieuw.
      </p>
    </main>
  </body>
</html>`,
    429,
  );
}
