import { compareProducts, hasRisk, type ProductComparison } from "./compare_products.ts";
import { compareTexts, type TextComparison } from "./compare_text.ts";
import type { Privacybijsluiter } from "./privacybijsluiter.ts";
import type { AgreementStatus } from "./state.ts";

/** Which content one side of a comparison is: a version of the agreement or a commit. */
export interface VersionLabel {
  version: number;
  /** The Git tree oid of the version's directory. */
  oid: string;
  /** The commit it was read at, when it was named by commit. */
  commit?: string;
}

/** One side of a comparison: a version's text and privacybijsluiters. */
export interface VersionSide extends VersionLabel {
  text: string;
  products: Privacybijsluiter[];
}

/** Two versions of an agreement compared: the text article by article, the annexes as data. */
export interface VersionComparison {
  from: VersionLabel;
  to: VersionLabel;
  text: TextComparison;
  products: ProductComparison[];
  /** Some change in the privacybijsluiters carries a risk. */
  risky: boolean;
}

/** Compares two versions' texts and privacybijsluiters. */
export function compareVersions(from: VersionSide, to: VersionSide): VersionComparison {
  const products = compareProducts(from.products, to.products);
  return {
    from: label(from),
    to: label(to),
    text: compareTexts(from.text, to.text),
    products,
    risky: hasRisk(products),
  };
}

/** The versions of an agreement that were offered, oldest first, with their tree oids. */
export function offeredVersions(status: AgreementStatus): Map<number, string> {
  const versions = new Map<number, string>();
  for (const entry of status.history) {
    if (entry.action === "offered") versions.set(entry.version, entry.oid);
  }
  versions.set(status.current.version, status.current.oid);
  return new Map([...versions].sort((a, b) => a[0] - b[0]));
}

/**
 * What a reviewer compares the current version with by default: the version
 * in force when it is older, otherwise the version before the current one;
 * null for a first version with nothing in force.
 */
export function defaultBase(status: AgreementStatus): number | null {
  const current = status.current.version;
  if (status.inForce && status.inForce.version < current) return status.inForce.version;
  const older = [...offeredVersions(status).keys()].filter((version) => version < current);
  return older.at(-1) ?? null;
}

function label(side: VersionSide): VersionLabel {
  return {
    version: side.version,
    oid: side.oid,
    ...(side.commit === undefined ? {} : { commit: side.commit }),
  };
}
