import type { Mandate, Principal } from "./actor.ts";
import { DomainError } from "./errors.ts";
import type { BoardId, SupplierId } from "./ids.ts";
import type { Board, State } from "./state.ts";

/** The board a principal acts for, found by the organisation's KvK number. */
export function boardOf(state: State, principal: Principal): Board | undefined {
  for (const board of state.boards.values()) {
    if (board.kvk === principal.organisation) return board;
  }
  return undefined;
}

/** Whether a principal may read a board's agreements: a person of that board, or an admin. */
export function canReadBoard(state: State, principal: Principal, board: BoardId): boolean {
  return principal.admin || boardOf(state, principal)?.id === board;
}

/** Whether a principal acts for a supplier in the supplier role. */
export function actsForSupplier(principal: Principal, supplier: SupplierId): boolean {
  return principal.supplier && principal.organisation === supplier;
}

/**
 * Requires that a principal acts for `board` with `mandate`, and that the
 * board accepted the terms of use. Returns the board.
 */
export function requireBoardMandate(
  state: State,
  principal: Principal,
  board: BoardId,
  mandate: Mandate,
): Board {
  const found = state.boards.get(board);
  if (!found) throw new DomainError("not_found", `Board "${board}" does not exist`);
  if (found.kvk !== principal.organisation) {
    throw new DomainError("forbidden", `You do not act for board "${board}"`);
  }
  if (!principal.mandates.includes(mandate)) {
    throw new DomainError(
      "forbidden",
      `Acting for board "${board}" needs the mandate "${mandate}"`,
    );
  }
  if (!found.termsAccepted) {
    throw new DomainError(
      "terms_not_accepted",
      `Board "${board}" has not accepted the terms of use yet`,
    );
  }
  return found;
}

/** Requires that a principal acts for `supplier` in the supplier role. */
export function requireSupplier(principal: Principal, supplier: SupplierId): void {
  if (!actsForSupplier(principal, supplier)) {
    throw new DomainError("forbidden", `You do not act for supplier "${supplier}"`);
  }
}
