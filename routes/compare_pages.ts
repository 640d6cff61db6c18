import { HTTPException } from "hono/http-exception";
import {
  compareVersions,
  defaultBase,
  offeredVersions,
  type VersionComparison,
  type VersionSide,
} from "../domain/compare_versions.ts";
import { compareModel, type ModelComparison } from "../domain/compare_model.ts";
import type { AgreementStatus, Board, State, Supplier } from "../domain/state.ts";
import type { HistoryStore } from "../store/history.ts";
import { readAtCommit, readVersion } from "./version_reader.ts";

/** What a compare request asks for: two versions (numbers) or, for admins, commit oids. */
export interface CompareQuery {
  from?: string | undefined;
  to?: string | undefined;
}

/** The outcome of resolving a compare request. */
export interface CompareOutcome {
  comparison: VersionComparison | null;
  chosen: { from: string; to: string };
  versions: number[];
  notice?: string;
  /** The newer side held against the sector model. */
  model: ModelComparison;
}

const VERSION = /^[1-9]\d{0,8}$/;
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Reads the two sides a compare request names from the history and compares
 * them. Without `to` the current version is taken; without `from` the version
 * in force or the one before (see {@link defaultBase}). Commit oids are read
 * only when `commits` allows it. A malformed value is a 400, an unknown one a 404.
 */
export async function resolveComparison(
  store: HistoryStore<State>,
  agreement: { board: Board; supplier: Supplier; status: AgreementStatus },
  query: CompareQuery,
  commits: boolean,
): Promise<CompareOutcome> {
  const { status } = agreement;
  const versions = [...offeredVersions(status).keys()];
  const to = query.to?.trim() || String(status.current.version);
  const base = defaultBase(status);
  const from = query.from?.trim() || (base === null ? "" : String(base));
  if (from === "") {
    return {
      comparison: null,
      chosen: { from, to },
      versions,
      notice: "Er is nog maar één versie van deze overeenkomst; er valt niets te vergelijken.",
      model: modelOf(await readSide(store, agreement, to, commits)),
    };
  }
  const [older, newer] = await Promise.all([
    readSide(store, agreement, from, commits),
    readSide(store, agreement, to, commits),
  ]);
  return {
    comparison: compareVersions(older, newer),
    chosen: { from, to },
    versions,
    model: modelOf(newer),
  };
}

function modelOf(side: VersionSide): ModelComparison {
  return compareModel(side.text, { hasProducts: side.products.length > 0 });
}

async function readSide(
  store: HistoryStore<State>,
  agreement: { board: Board; supplier: Supplier; status: AgreementStatus },
  value: string,
  commits: boolean,
): Promise<VersionSide> {
  let side: VersionSide | null = null;
  if (VERSION.test(value)) {
    side = await readVersion(store, agreement.status, Number(value));
  } else if (commits && COMMIT.test(value)) {
    side = await readAtCommit(store, agreement.board.id, agreement.supplier.id, value);
  } else {
    throw new HTTPException(400, {
      message: commits
        ? `"${value.slice(0, 60)}" is geen versienummer en geen commit-oid.`
        : `"${value.slice(0, 60)}" is geen versienummer.`,
    });
  }
  if (side === null) {
    throw new HTTPException(404, {
      message: `Deze overeenkomst heeft geen versie "${value.slice(0, 60)}".`,
    });
  }
  return side;
}
