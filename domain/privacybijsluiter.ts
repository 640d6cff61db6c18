import { z } from "zod";
import { KvkNumber, ProductId } from "./ids.ts";
import { refuseHiddenCharacters } from "./plain_text.ts";

// Every free text of a privacybijsluiter is shown to reviewers as it is
// stored, so direction controls and invisible characters are refused.
const text = (max: number) => z.string().trim().min(1).max(max).superRefine(refuseHiddenCharacters);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date is written YYYY-MM-DD");

/** Categories of data subjects a product processes data of. */
export const DataSubjectCategory = z.enum([
  "leerlingen",
  "ouders",
  "medewerkers",
  "studenten",
  "sollicitanten",
  "overig",
]);

/** One category of personal data, with its retention. */
export const DataCategory = z.strictObject({
  name: text(200),
  description: text(2000).optional(),
  /** A special category of GDPR art. 9 (health, religion, ...). */
  special: z.boolean(),
  /** A national identifier such as the BSN or the pupil number (PGN). */
  nationalIdentifier: z.boolean(),
  retention: text(500),
});

/** A sub-processor the supplier engages for this product. */
export const SubProcessor = z.strictObject({
  name: text(200),
  service: text(500),
  country: z.string().regex(/^[A-Z]{2}$/, "a country is an ISO 3166-1 alpha-2 code"),
  insideEea: z.boolean(),
  /** The transfer safeguard outside the EEA (adequacy decision, SCCs, ...). */
  transferSafeguard: text(500).optional(),
}).refine((s) => s.insideEea || s.transferSafeguard !== undefined, {
  message: "a sub-processor outside the EEA needs a transferSafeguard",
  path: ["transferSafeguard"],
});

const Contact = z.strictObject({
  name: text(200),
  email: z.email().max(254),
  phone: text(40).optional(),
});

/**
 * The privacybijsluiter (privacy annex) of one product. No official
 * machine-readable form exists; this is Akkoord's schema.
 */
export const Privacybijsluiter = z.strictObject({
  product: z.strictObject({
    id: ProductId,
    name: text(200),
    version: text(40),
    description: text(4000),
  }),
  supplier: z.strictObject({
    name: text(200),
    kvk: KvkNumber,
    privacyContact: Contact,
    breachContact: Contact,
  }),
  purposes: z.array(text(1000)).min(1).max(50),
  dataSubjects: z.array(DataSubjectCategory).min(1).max(6),
  dataCategories: z.array(DataCategory).min(1).max(100),
  subProcessors: z.array(SubProcessor).max(100),
  storageLocation: text(500),
  security: z.strictObject({
    annexReference: text(500),
    certifications: z.array(text(200)).max(20),
  }),
  documentVersion: text(40),
  documentDate: isoDate,
});
export type Privacybijsluiter = z.infer<typeof Privacybijsluiter>;
