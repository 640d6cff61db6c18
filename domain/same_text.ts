import type { BoardId } from "./ids.ts";
import type { AgreementState } from "./state.ts";

/** One board's current version of a supplier's agreement, as the grouping reads it. */
export interface SameTextRow {
  board: { id: BoardId; name: string };
  version: number;
  state: AgreementState;
  /** The Git blob oid of the version's agreement text (agreement.md). */
  textOid: string;
  /** The Git tree oid of the whole version: text, title and privacybijsluiters. */
  versionOid: string;
}

/** A board in a group, with its version number and state. */
export interface SameTextBoard {
  id: BoardId;
  name: string;
  version: number;
  state: AgreementState;
}

/** Boards whose current version has exactly the same agreement text. */
export interface SameTextGroup {
  textOid: string;
  boards: SameTextBoard[];
  /**
   * The same boards split by whole version: boards in one entry got the
   * same text, title and privacybijsluiters (the same tree).
   */
  versions: Array<{ oid: string; boards: BoardId[] }>;
}

/** Which boards got the same text of one supplier's agreement, and which a different one. */
export interface SameTextOverview {
  /** Largest group first. */
  groups: SameTextGroup[];
  boardCount: number;
}

/**
 * Groups boards by the exact text of their current version (the same blob
 * oid, so byte for byte), and within a group by the whole version (the same
 * tree oid). The largest group comes first; boards are in Dutch name order.
 */
export function groupBySameText(rows: readonly SameTextRow[]): SameTextOverview {
  const byText = new Map<string, SameTextRow[]>();
  for (const row of rows) {
    const group = byText.get(row.textOid) ?? [];
    group.push(row);
    byText.set(row.textOid, group);
  }
  const groups = [...byText].map(([textOid, members]) => groupOf(textOid, members));
  groups.sort((a, b) =>
    b.boards.length - a.boards.length ||
    (a.textOid < b.textOid ? -1 : a.textOid > b.textOid ? 1 : 0)
  );
  return { groups, boardCount: rows.length };
}

function groupOf(textOid: string, members: SameTextRow[]): SameTextGroup {
  const sorted = [...members].sort((a, b) => a.board.name.localeCompare(b.board.name, "nl"));
  const versions = new Map<string, BoardId[]>();
  for (const row of sorted) {
    versions.set(row.versionOid, [...(versions.get(row.versionOid) ?? []), row.board.id]);
  }
  return {
    textOid,
    boards: sorted.map((row) => ({
      id: row.board.id,
      name: row.board.name,
      version: row.version,
      state: row.state,
    })),
    versions: [...versions]
      .map(([oid, boards]) => ({ oid, boards }))
      .sort((a, b) => b.boards.length - a.boards.length),
  };
}
