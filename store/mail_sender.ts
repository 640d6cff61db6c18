import { createHash } from "node:crypto";

/** One mail as a mail API receives it: one recipient, a text and an HTML part. */
export interface OutgoingMail {
  /** The key under which the provider sends this mail at most once. */
  idempotencyKey: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * What became of one attempt: `sent` with the provider's id; `transient`
 * (network, timeout, rate limit, server error) may succeed later, after
 * `retryAfterMs` when the provider said so; `permanent` will not.
 */
export type SendOutcome =
  | { status: "sent"; id: string }
  | { status: "transient"; reason: string; retryAfterMs?: number }
  | { status: "permanent"; reason: string };

/** A mail backend. It reports every failure as an outcome and never throws for one. */
export interface MailSender {
  send(mail: OutgoingMail): Promise<SendOutcome>;
}

/** The longest idempotency key Resend accepts (https://resend.com/docs/dashboard/emails/idempotency-keys). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The key sent to the provider for an outbox key: the key itself when it is
 * printable ASCII within {@link IDEMPOTENCY_KEY_MAX_LENGTH}, else its SHA-256,
 * so the same mail always gets the same key.
 */
export function providerIdempotencyKey(key: string): string {
  if (key.length <= IDEMPOTENCY_KEY_MAX_LENGTH && PRINTABLE_ASCII.test(key)) return key;
  return `sha256-${createHash("sha256").update(key).digest("hex")}`;
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Whether `text` is exactly one bare address (`name@example.org`): no display
 * name, no list, no quoting, no whitespace or control characters.
 */
export function isSingleAddress(text: string): boolean {
  if (text.length > 254) return false;
  const at = text.lastIndexOf("@");
  if (at <= 0 || at > 64) return false;
  const labels = text.slice(at + 1).split(".");
  return LOCAL_PART.test(text.slice(0, at)) && labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label));
}
