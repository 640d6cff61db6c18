import type { Decision } from "../store/history.ts";
import { actorRecord, type Principal, SYSTEM_ACTOR } from "./actor.ts";
import { boardTarget } from "./authorisation.ts";
import { DomainError } from "./errors.ts";
import { eventCommit, isoSeconds, jsonFile } from "./event.ts";
import type { BoardId } from "./ids.ts";
import { boardPath, supplierPath } from "./paths.ts";
import { requireAuthorised } from "./permissions.ts";
import type { Board, State, Supplier } from "./state.ts";

/** The version of the terms of use boards accept. */
export const TERMS_VERSION = "2026-12";

/**
 * Registers boards and suppliers that are new or changed, in one commit.
 * Unchanged entries are skipped, so loading the same registry twice is a no-op.
 */
export function registerOrganisations(
  state: State,
  input: { boards: Board[]; suppliers: Supplier[]; at: Date },
): Decision<{ boards: number; suppliers: number }> {
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
      actor: SYSTEM_ACTOR,
      at: input.at,
      files,
    }),
    result,
  };
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
