import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

/** One field's problem in a validation error. */
export interface FieldProblem {
  /** A JSON Pointer (RFC 6901) to the field in the request body. */
  pointer: string;
  detail: string;
}

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldProblem[];
}

/** The stable `type` URI of a problem code. */
export function problemType(code: string): string {
  return `urn:akkoord:problem:${code}`;
}

/** Responds with `application/problem+json` (RFC 9457). */
export function problem(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  title: string,
  extra: { detail?: string; errors?: FieldProblem[]; headers?: Record<string, string> } = {},
): Response {
  const body: Problem = {
    type: problemType(code),
    title,
    status,
    ...(extra.detail ? { detail: extra.detail } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
  return c.body(JSON.stringify(body), status, {
    "Content-Type": "application/problem+json",
    ...extra.headers,
  });
}

/** Turns zod issues into per-field problems with JSON Pointers. */
export function fieldProblems(issues: z.core.$ZodIssue[]): FieldProblem[] {
  return issues.map((issue) => ({
    pointer: "/" + issue.path.map((part) => String(part).replace(/~/g, "~0").replace(/\//g, "~1"))
      .join("/"),
    detail: issue.code === "unrecognized_keys"
      ? `unknown field${issue.keys.length === 1 ? "" : "s"}: ${issue.keys.join(", ")}`
      : issue.message,
  }));
}
