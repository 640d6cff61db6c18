import { Resend } from "resend";
import {
  isSingleAddress,
  type MailSender,
  type OutgoingMail,
  providerIdempotencyKey,
  type SendOutcome,
} from "./mail_sender.ts";

/** Options of {@link createResendSender}. */
export interface ResendSenderOptions {
  apiKey: string;
  /** The sender, `address` or `Name <address>`, checked by the configuration. */
  from: string;
  /** Resend's API base URL; another one only for tests. */
  baseUrl?: string;
  /** How long one request may take before it counts as a transient failure. */
  timeoutMs?: number;
}

/** Error names Resend may answer with that can succeed when tried again. */
const TRANSIENT_NAMES = new Set([
  "application_error",
  "internal_server_error",
  "rate_limit_exceeded",
  "concurrent_idempotent_requests",
]);

/**
 * Sends through Resend's API with the mail's idempotency key, so a retry of a
 * mail Resend already accepted returns the first answer instead of a second
 * mail. The client reports errors in its result; a thrown error is also
 * turned into a transient outcome.
 */
export function createResendSender(options: ResendSenderOptions): MailSender {
  const client = new Resend(options.apiKey, options.baseUrl ? { baseUrl: options.baseUrl } : {});
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    async send(mail: OutgoingMail): Promise<SendOutcome> {
      if (!isSingleAddress(mail.to)) {
        return { status: "permanent", reason: `"${mail.to}" is not one valid e-mail address` };
      }
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const result = await client.emails.send(
          {
            from: options.from,
            to: [mail.to],
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
          },
          { idempotencyKey: providerIdempotencyKey(mail.idempotencyKey), signal },
        );
        if (signal.aborted) return timedOut(timeoutMs);
        if (result.error) return classify(result.error, result.headers);
        if (typeof result.data?.id !== "string" || result.data.id === "") {
          return { status: "transient", reason: "Resend answered without an email id" };
        }
        return { status: "sent", id: result.data.id };
      } catch (error) {
        if (signal.aborted) return timedOut(timeoutMs);
        return { status: "transient", reason: `Resend request failed: ${describe(error)}` };
      }
    },
  };
}

function classify(
  error: { name?: unknown; message?: unknown; statusCode?: unknown },
  headers: Record<string, string> | null,
): SendOutcome {
  const status = typeof error.statusCode === "number" ? error.statusCode : null;
  const reason = `Resend answered ${status ?? "without a status"} ${String(error.name)}: ${
    String(error.message)
  }`;
  const retryAfterMs = parseRetryAfter(headers?.["retry-after"]);
  const transient = status === null
    ? TRANSIENT_NAMES.has(String(error.name))
    : status === 429 || status >= 500 ||
      (status === 409 && error.name === "concurrent_idempotent_requests") || status === 408;
  if (!transient) return { status: "permanent", reason };
  return retryAfterMs === undefined
    ? { status: "transient", reason }
    : { status: "transient", reason, retryAfterMs };
}

/** Retry-After in seconds or as an HTTP date (RFC 9110 section 10.2.3). */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function timedOut(timeoutMs: number): SendOutcome {
  return { status: "transient", reason: `Resend did not answer within ${timeoutMs} ms` };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
