/** The closed set of reasons a domain decision refuses a command. */
export type DomainErrorCode =
  | "not_found"
  | "forbidden"
  | "invalid_transition"
  | "not_approved"
  | "content_mismatch"
  | "version_superseded"
  | "terms_not_accepted"
  | "reason_required"
  | "duplicate"
  | "limit_reached"
  | "invalid_input";

/** A refusal by the domain, with a stable code and a message naming the values. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;

  constructor(code: DomainErrorCode, message: string) {
    super(message);
    this.name = "DomainError";
    this.code = code;
  }
}

/** The HTTP status of each domain error code. */
export const DOMAIN_ERROR_STATUS: Record<DomainErrorCode, 400 | 403 | 404 | 409 | 422 | 429> = {
  not_found: 404,
  forbidden: 403,
  invalid_transition: 409,
  not_approved: 409,
  content_mismatch: 409,
  version_superseded: 409,
  terms_not_accepted: 409,
  reason_required: 422,
  duplicate: 409,
  limit_reached: 429,
  invalid_input: 422,
};
