import type { Decision } from "../store/history.ts";
import { actorRecord, type Principal, SYSTEM_ACTOR } from "./actor.ts";
import { boardTarget, SERVICE } from "./authorisation.ts";
import { sha256Hex } from "./content.ts";
import { DomainError } from "./errors.ts";
import { eventCommit, isoSeconds, jsonFile } from "./event.ts";
import type { BoardId } from "./ids.ts";
import { boardPath, supplierPath } from "./paths.ts";
import { requireAuthorised } from "./permissions.ts";
import type { Board, State, Supplier } from "./state.ts";

/** The version of the terms of use boards accept. */
export const TERMS_VERSION = "2026-12";

/** What {@link registerOrganisations} registers, and on whose behalf. */
export interface RegisterOrganisations {
  boards: Board[];
  suppliers: Supplier[];
  at: Date;
  /**
   * The administrator who registers, recorded as the commit's actor once the
   * authorisation table allows "registry.manage". Left out, the service
   * itself registers (the demo data).
   */
  principal?: Principal;
}

/**
 * Registers boards and suppliers that are new or changed, in one commit.
 * Unchanged entries are skipped, so loading the same registry twice is a no-op.
 * A board keeps its acceptance of the terms of use; entries not given stay.
 */
export function registerOrganisations(
  state: State,
  input: RegisterOrganisations,
): Decision<{ boards: number; suppliers: number }> {
  const { principal } = input;
  if (principal) requireAuthorised(principal, "registry.manage", SERVICE);
  const files = new Map<string, Uint8Array | null>();
  let boards = 0;
  let suppliers = 0;
  for (const board of input.boards) {
    const existing = state.boards.get(board.id);
    const next: Board = existing?.termsAccepted
      ? { ...board, termsAccepted: existing.termsAccepted }
      : board;
    if (existing && JSON.stringify(existing) === JSON.stringify(next)) continue;
    files.set(boardPath(board.id), jsonFile(next));
    boards++;
  }
  for (const supplier of input.suppliers) {
    const existing = state.suppliers.get(supplier.id);
    if (existing && JSON.stringify(existing) === JSON.stringify(supplier)) continue;
    files.set(supplierPath(supplier.id), jsonFile(supplier));
    suppliers++;
  }
  const result = { boards, suppliers };
  if (files.size === 0) return { commit: null, result };
  const kind = boards > 0 ? "board-registered" : "supplier-registered";
  return {
    commit: eventCommit({
      kind,
      subject: `Register ${boards} board${boards === 1 ? "" : "s"} and ${suppliers} supplier${
        suppliers === 1 ? "" : "s"
      }`,
      trailers: [],
      actor: principal ? actorRecord(principal, "beheer") : SYSTEM_ACTOR,
      at: input.at,
      files,
    }),
    result,
  };
}

/** One board of a registry file that differs from the registered one, and in what. */
export interface BoardChange {
  before: Board;
  after: Board;
  fields: Array<"kvk" | "name" | "sector" | "contactEmail">;
}

/** What registering a list of boards would do, decided against the state; no commit. */
export interface BoardRegistrationPlan {
  added: Board[];
  changed: BoardChange[];
  unchanged: number;
  /** Registered boards the list does not name; they stay as they are. */
  untouched: number;
}

const BOARD_FIELDS = ["kvk", "name", "sector", "contactEmail"] as const;

/**
 * Which boards of a list are new, which would change (and in which fields),
 * and how many are registered as they are, as {@link registerOrganisations}
 * would decide; a board's acceptance of the terms of use is no change.
 */
export function planBoardRegistration(state: State, boards: Board[]): BoardRegistrationPlan {
  const added: Board[] = [];
  const changed: BoardChange[] = [];
  let unchanged = 0;
  for (const after of boards) {
    const before = state.boards.get(after.id);
    if (!before) {
      added.push(after);
      continue;
    }
    const fields = BOARD_FIELDS.filter((field) => before[field] !== after[field]);
    if (fields.length === 0) unchanged++;
    else changed.push({ before, after, fields });
  }
  const named = new Set(boards.map((board) => board.id));
  const untouched = [...state.boards.keys()].filter((id) => !named.has(id)).length;
  return { added, changed, unchanged, untouched };
}

/**
 * A digest of a list of boards and of what the state registers for each of
 * them now (the terms of use left out): the same exactly when registering the
 * list would do the same, so a form can tell that the registry changed since
 * its preview.
 */
export function boardRegistrationFingerprint(state: State, boards: Board[]): string {
  const pairs = boards.map((board) => {
    const registered = state.boards.get(board.id);
    return [board, registered ? BOARD_FIELDS.map((field) => registered[field]) : null];
  });
  return sha256Hex(new TextEncoder().encode(JSON.stringify(pairs)));
}

/** A person with a board mandate accepts the terms of use for the board, once. */
export function acceptTerms(
  state: State,
  command: { principal: Principal; board: BoardId; at: Date },
): Decision<Board> {
  const board = state.boards.get(command.board);
  if (!board) throw new DomainError("not_found", `Board "${command.board}" does not exist`);
  const { principal } = command;
  requireAuthorised(principal, "board.accept_terms", boardTarget(board));
  if (board.termsAccepted) return { commit: null, result: board };
  // The table allowed it, so the person holds one of the two board mandates.
  const mandate = principal.mandates.includes("beoordelen") ? "beoordelen" : "ondertekenen";
  const actor = actorRecord(principal, mandate);
  const next: Board = {
    ...board,
    termsAccepted: { version: TERMS_VERSION, at: isoSeconds(command.at), actor },
  };
  return {
    commit: eventCommit({
      kind: "terms-accepted",
      subject: `Accept terms of use ${TERMS_VERSION} for ${board.name}`,
      trailers: [["Board", board.id], ["Terms-Version", TERMS_VERSION]],
      actor,
      at: command.at,
      files: new Map([[boardPath(board.id), jsonFile(next)]]),
    }),
    result: next,
  };
}
