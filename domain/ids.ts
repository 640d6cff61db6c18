import { z } from "zod";

/** DUO "bevoegd gezag" number of a school board: 5 digits, leading zeros significant. */
export const BoardId = z.string().regex(/^\d{5}$/, "a board id is 5 digits (DUO bevoegd gezag)");
export type BoardId = z.infer<typeof BoardId>;

/** KvK (Chamber of Commerce) number: 8 digits, leading zeros significant. */
export const KvkNumber = z.string().regex(/^\d{8}$/, "a KvK number is 8 digits");
export type KvkNumber = z.infer<typeof KvkNumber>;

/** A supplier is identified by its KvK number. */
export const SupplierId = KvkNumber;
export type SupplierId = KvkNumber;

/** A product id: a lowercase path-safe slug. */
export const ProductId = z.string().regex(
  /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/,
  "a product id is 1-64 lowercase letters, digits and inner hyphens",
);
export type ProductId = z.infer<typeof ProductId>;

/** A Git object id (SHA-1, 40 lowercase hex digits). */
export const Oid = z.string().regex(/^[0-9a-f]{40}$/, "an oid is 40 lowercase hex digits");
export type Oid = z.infer<typeof Oid>;

/** A SHA-256 digest as 64 lowercase hex digits. */
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 is 64 lowercase hex digits");
export type Sha256 = z.infer<typeof Sha256>;

/** The key of one agreement: one per (board, supplier). Written "board/supplier". */
export function agreementKey(board: BoardId, supplier: SupplierId): string {
  return `${board}/${supplier}`;
}

/** The key of one supplier's API key in the state. Written "supplier/thumbprint". */
export function apiKeyKey(supplier: SupplierId, thumbprint: string): string {
  return `${supplier}/${thumbprint}`;
}
