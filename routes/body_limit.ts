import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";

/** The most bytes an ordinary page form may send (a reason, an address, a label). */
export const FORM_BODY_BYTES = 64 * 1024;

/** A larger limit for the page forms whose paths match `pathname` (a URLPattern pathname). */
export interface LargerBodyLimit {
  pathname: string;
  maxBytes: number;
  /** A Dutch sentence after the refusal, such as what to do instead. */
  advice: string;
}

/** Settings of {@link pageBodyLimit}. */
export interface PageBodyLimitOptions {
  /** The limit of every request not matched by `larger`; {@link FORM_BODY_BYTES} when left out. */
  maxBytes?: number;
  larger?: LargerBodyLimit[];
}

const DEFAULT_ADVICE = "Er is niets vastgelegd.";

/**
 * Bounds the body of every request that reaches the pages, before the CSRF
 * guard or a handler reads it. A `Content-Length` over the limit is refused
 * without reading; a body without one (chunked) is read up to the limit and
 * refused at the first byte over it, so at most the limit is ever held in
 * memory. A refusal throws `HTTPException(413)` with a Dutch message, which
 * the app's error handler shows as a page.
 */
export function pageBodyLimit(options: PageBodyLimitOptions = {}): MiddlewareHandler {
  const standard = limitOf(options.maxBytes ?? FORM_BODY_BYTES, DEFAULT_ADVICE);
  const larger = (options.larger ?? []).map((entry) => ({
    pattern: new URLPattern({ pathname: entry.pathname }),
    limit: limitOf(entry.maxBytes, entry.advice),
  }));
  return (c, next) => {
    const match = larger.find(({ pattern }) => pattern.test({ pathname: c.req.path }));
    return (match?.limit ?? standard)(c, next);
  };
}

function limitOf(maxBytes: number, advice: string): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HTTPException(413, {
        message: `Het formulier is groter dan ${sizeText(maxBytes)} en is niet verwerkt. ${advice}`,
      });
    },
  });
}

/** A size as the pages state limits: whole megabytes, else kilobytes. */
export function sizeText(bytes: number): string {
  const mebibyte = 1024 * 1024;
  if (bytes >= mebibyte && bytes % mebibyte === 0) return `${bytes / mebibyte} MB`;
  return `${Math.ceil(bytes / 1024)} kB`;
}
