import type { Context } from "hono";
import { DOMAIN_ERROR_STATUS, DomainError } from "../domain/errors.ts";
import { problem } from "./problem.ts";

const TITLES: Record<DomainError["code"], string> = {
  not_found: "Not found",
  forbidden: "Not allowed",
  invalid_transition: "The agreement is not in a state that allows this",
  not_approved: "The version was not approved",
  content_mismatch: "The content differs from the version named",
  version_superseded: "A newer version superseded the version named",
  terms_not_accepted: "The board has not accepted the terms of use",
  reason_required: "A reason is required",
  duplicate: "Already done",
  limit_reached: "A limit was reached",
  invalid_input: "The request is not valid",
};

/** Responds to a domain refusal with its problem document; rethrows anything else. */
export function domainProblem(c: Context, error: unknown): Response {
  if (!(error instanceof DomainError)) throw error;
  return problem(c, DOMAIN_ERROR_STATUS[error.code], error.code, TITLES[error.code], {
    detail: error.message,
  });
}
