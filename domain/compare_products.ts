import type { Privacybijsluiter } from "./privacybijsluiter.ts";

/** What part of a privacybijsluiter a change is about. */
export type ProductField =
  | "product"
  | "subProcessor"
  | "dataCategory"
  | "retention"
  | "purpose"
  | "dataSubject"
  | "storageLocation"
  | "security"
  | "contact"
  | "document";

/** Why a change deserves a reviewer's attention. */
export type Risk =
  | "outside_eea"
  | "moved_outside_eea"
  | "special_category"
  | "national_identifier";

/** One named change in a privacybijsluiter. */
export interface FieldChange {
  field: ProductField;
  change: "added" | "removed" | "changed";
  /** What changed: the sub-processor's or data category's name, the purpose, or the field's name. */
  subject: string;
  /** The attribute of a named sub-processor or data category that changed ("retention", "country"). */
  attribute?: string;
  from?: string;
  to?: string;
  /** Set when the change adds a risk for the pupils' or staff's data. */
  risk?: Risk;
}

/** How one product's privacybijsluiter compares between two versions. */
export interface ProductComparison {
  id: string;
  name: string;
  kind: "added" | "removed" | "changed" | "unchanged";
  changes: FieldChange[];
}

/**
 * Compares the privacybijsluiters of two versions as data, product by product
 * (matched by product id) and field by field: sub-processors, data categories
 * and their retention, purposes, data subjects, storage location, security,
 * contacts and the document's own version. Risky additions are flagged.
 */
export function compareProducts(
  from: readonly Privacybijsluiter[],
  to: readonly Privacybijsluiter[],
): ProductComparison[] {
  const older = new Map(from.map((annex) => [annex.product.id, annex]));
  const newer = new Map(to.map((annex) => [annex.product.id, annex]));
  const result: ProductComparison[] = [];
  for (const annex of to) {
    const previous = older.get(annex.product.id);
    if (!previous) {
      result.push({
        id: annex.product.id,
        name: annex.product.name,
        kind: "added",
        changes: compareAnnex(emptyLike(annex), annex),
      });
      continue;
    }
    const changes = compareAnnex(previous, annex);
    result.push({
      id: annex.product.id,
      name: annex.product.name,
      kind: changes.length === 0 ? "unchanged" : "changed",
      changes,
    });
  }
  for (const annex of from) {
    if (newer.has(annex.product.id)) continue;
    result.push({ id: annex.product.id, name: annex.product.name, kind: "removed", changes: [] });
  }
  return result;
}

/** Whether any change of any product carries a risk. */
export function hasRisk(products: readonly ProductComparison[]): boolean {
  return products.some((product) => product.changes.some((change) => change.risk !== undefined));
}

/** A privacybijsluiter with nothing in its lists, so an added product lists all it holds. */
function emptyLike(annex: Privacybijsluiter): Privacybijsluiter {
  return {
    ...annex,
    purposes: [],
    dataSubjects: [],
    dataCategories: [],
    subProcessors: [],
    storageLocation: annex.storageLocation,
  };
}

function compareAnnex(a: Privacybijsluiter, b: Privacybijsluiter): FieldChange[] {
  return [
    ...scalar("product", "name", a.product.name, b.product.name),
    ...scalar("product", "version", a.product.version, b.product.version),
    ...scalar("product", "description", a.product.description, b.product.description),
    ...compareSubProcessors(a.subProcessors, b.subProcessors),
    ...compareCategories(a.dataCategories, b.dataCategories),
    ...compareList("purpose", a.purposes, b.purposes),
    ...compareList("dataSubject", a.dataSubjects, b.dataSubjects),
    ...scalar("storageLocation", "storageLocation", a.storageLocation, b.storageLocation),
    ...scalar(
      "security",
      "annexReference",
      a.security.annexReference,
      b.security.annexReference,
    ),
    ...compareList("security", a.security.certifications, b.security.certifications),
    ...scalar(
      "contact",
      "privacyContact",
      contact(a.supplier.privacyContact),
      contact(b.supplier.privacyContact),
    ),
    ...scalar(
      "contact",
      "breachContact",
      contact(a.supplier.breachContact),
      contact(b.supplier.breachContact),
    ),
    ...scalar("document", "documentVersion", a.documentVersion, b.documentVersion),
    ...scalar("document", "documentDate", a.documentDate, b.documentDate),
  ];
}

type SubProcessor = Privacybijsluiter["subProcessors"][number];
type DataCategory = Privacybijsluiter["dataCategories"][number];

function compareSubProcessors(a: SubProcessor[], b: SubProcessor[]): FieldChange[] {
  const older = byName(a);
  const newer = byName(b);
  const changes: FieldChange[] = [];
  for (const [key, sub] of newer) {
    const previous = older.get(key);
    if (!previous) {
      changes.push({
        field: "subProcessor",
        change: "added",
        subject: sub.name,
        to: `${sub.service} (${sub.country})`,
        ...(sub.insideEea ? {} : { risk: "outside_eea" as const }),
      });
      continue;
    }
    changes.push(
      ...attribute("subProcessor", sub.name, "service", previous.service, sub.service),
      ...attribute("subProcessor", sub.name, "country", previous.country, sub.country),
      ...attribute(
        "subProcessor",
        sub.name,
        "transferSafeguard",
        previous.transferSafeguard ?? "",
        sub.transferSafeguard ?? "",
      ),
      ...attribute(
        "subProcessor",
        sub.name,
        "insideEea",
        String(previous.insideEea),
        String(sub.insideEea),
        previous.insideEea && !sub.insideEea ? "moved_outside_eea" : undefined,
      ),
    );
  }
  for (const [key, sub] of older) {
    if (!newer.has(key)) {
      changes.push({
        field: "subProcessor",
        change: "removed",
        subject: sub.name,
        from: `${sub.service} (${sub.country})`,
      });
    }
  }
  return changes;
}

function compareCategories(a: DataCategory[], b: DataCategory[]): FieldChange[] {
  const older = byName(a);
  const newer = byName(b);
  const changes: FieldChange[] = [];
  for (const [key, category] of newer) {
    const previous = older.get(key);
    if (!previous) {
      const risk = categoryRisk(category);
      changes.push({
        field: "dataCategory",
        change: "added",
        subject: category.name,
        to: category.retention,
        ...(risk ? { risk } : {}),
      });
      continue;
    }
    const name = category.name;
    changes.push(
      ...attribute("retention", name, "retention", previous.retention, category.retention),
      ...attribute(
        "dataCategory",
        name,
        "description",
        previous.description ?? "",
        category.description ?? "",
      ),
      ...attribute(
        "dataCategory",
        name,
        "special",
        String(previous.special),
        String(category.special),
        category.special && !previous.special ? "special_category" : undefined,
      ),
      ...attribute(
        "dataCategory",
        name,
        "nationalIdentifier",
        String(previous.nationalIdentifier),
        String(category.nationalIdentifier),
        category.nationalIdentifier && !previous.nationalIdentifier
          ? "national_identifier"
          : undefined,
      ),
    );
  }
  for (const [key, category] of older) {
    if (!newer.has(key)) {
      changes.push({ field: "dataCategory", change: "removed", subject: category.name });
    }
  }
  return changes;
}

function categoryRisk(category: DataCategory): Risk | undefined {
  if (category.special) return "special_category";
  if (category.nationalIdentifier) return "national_identifier";
  return undefined;
}

/** A change of one attribute of a named item; booleans are written "true" and "false". */
function attribute(
  field: ProductField,
  subject: string,
  name: string,
  from: string,
  to: string,
  risk?: Risk,
): FieldChange[] {
  if (normalise(from) === normalise(to)) return [];
  return [{
    field,
    change: "changed",
    subject,
    attribute: name,
    from,
    to,
    ...(risk ? { risk } : {}),
  }];
}

function compareList(
  field: ProductField,
  a: readonly string[],
  b: readonly string[],
): FieldChange[] {
  const older = new Set(a.map(normalise));
  const newer = new Set(b.map(normalise));
  return [
    ...b.filter((item) => !older.has(normalise(item)))
      .map((item): FieldChange => ({ field, change: "added", subject: item, to: item })),
    ...a.filter((item) => !newer.has(normalise(item)))
      .map((item): FieldChange => ({ field, change: "removed", subject: item, from: item })),
  ];
}

function scalar(field: ProductField, subject: string, from: string, to: string): FieldChange[] {
  if (normalise(from) === normalise(to)) return [];
  return [{ field, change: "changed", subject, from, to }];
}

function contact(value: { name: string; email: string; phone?: string | undefined }): string {
  return [value.name, value.email, value.phone ?? ""].filter((part) => part !== "").join(", ");
}

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [normalise(item.name), item]));
}

function normalise(text: string): string {
  return text.normalize("NFC").trim().replace(/\s+/g, " ").toLowerCase();
}
