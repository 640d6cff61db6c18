import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";
import type { RouteEntry } from "./route_list.ts";

/** The problem code and title the API answers an HTTP status with. */
const STATUS_PROBLEMS: Record<number, [code: string, title: string]> = {
  400: ["malformed_json", "The request body is not valid JSON"],
  401: ["unauthorized", "Authentication failed"],
  403: ["forbidden", "Not allowed"],
  404: ["not_found", "Not found"],
  405: ["method_not_allowed", "Method not allowed"],
  408: ["request_timeout", "The request body took too long"],
  413: ["body_too_large", "The request body is too large"],
  415: ["unsupported_media_type", "The body must be JSON"],
  429: ["too_many_requests", "Too many requests"],
};

/**
 * Answers every request under `/api/` that no API route took: 405 with an
 * `Allow` header when `routes` serve the path with other methods, 404
 * otherwise. Mounted after the API and before the pages' CSRF guard, so an
 * unknown API request never reaches the pages.
 */
export function apiFallback(routes: RouteEntry[]): MiddlewareHandler {
  const patterns = routes
    .filter((route) => route.method !== "ALL")
    .map((route) => ({ method: route.method, pattern: new URLPattern({ pathname: route.path }) }));
  // Two parameters mark it as middleware, so route listings leave it out.
  return (c, _next) => {
    const methods = new Set(
      patterns.filter(({ pattern }) => pattern.test({ pathname: c.req.path }))
        .map(({ method }) => method),
    );
    if (methods.has("GET")) methods.add("HEAD");
    if (methods.size === 0) {
      return Promise.resolve(
        problem(c, 404, "not_found", "Not found", { detail: `No route ${c.req.path}` }),
      );
    }
    const allow = [...methods].sort().join(", ");
    return Promise.resolve(
      problem(c, 405, "method_not_allowed", "Method not allowed", {
        detail: `${c.req.method} is not allowed on ${c.req.path}; use ${allow}`,
        headers: { Allow: allow },
      }),
    );
  };
}

/** An HTTP status as a problem document of the API, keeping the status. */
export function statusProblem(
  c: Parameters<typeof problem>[0],
  status: ContentfulStatusCode,
  detail: string | undefined,
): Response {
  if (status >= 500) return problem(c, 500, "internal", "Something went wrong");
  const [code, title] = STATUS_PROBLEMS[status] ?? ["request_refused", "The request was refused"];
  return problem(c, status, code, title, detail ? { detail } : {});
}
