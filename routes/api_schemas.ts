import { z } from "zod";
import { BoardId, Oid, Sha256 } from "../domain/ids.ts";
import { hasVisibleContent, plainText, refuseHiddenCharacters } from "../domain/plain_text.ts";
import { Privacybijsluiter } from "../domain/privacybijsluiter.ts";

/** Limits of the supplier API, as stated in the README. */
export const API_LIMITS = {
  bodyBytes: 2 * 1024 * 1024,
  textCharacters: 400_000,
  titleCharacters: 200,
  products: 20,
  boards: 1000,
  idempotencyKeyCharacters: 200,
} as const;

/** The body of an offer: one version of one agreement to one or many boards. */
export const OfferBody = z.strictObject({
  boards: z.array(BoardId).min(1).max(API_LIMITS.boards),
  title: z.string().transform(plainText).pipe(
    z.string().trim().max(API_LIMITS.titleCharacters).refine(hasVisibleContent, {
      message: "A title needs visible characters",
    }),
  ),
  text: z.string().min(1).max(API_LIMITS.textCharacters).refine(hasVisibleContent, {
    message: "An agreement text needs visible characters",
    abort: true,
  }).superRefine(refuseHiddenCharacters),
  products: z.array(Privacybijsluiter).min(1).max(API_LIMITS.products),
});
export type OfferBody = z.infer<typeof OfferBody>;

/** Names the exact version a decision applies to. */
export const VersionBody = z.strictObject({
  version: z.number().int().positive(),
  oid: Oid,
  contentSha256: Sha256,
});

/** A client's Idempotency-Key header: printable ASCII without spaces. */
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]+$/).max(
  API_LIMITS.idempotencyKeyCharacters,
);
