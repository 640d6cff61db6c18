import type { Principal } from "./actor.ts";
import {
  type Action,
  authorise,
  boardTarget,
  supplierTarget,
  type TargetOf,
} from "./authorisation.ts";
import { DomainError } from "./errors.ts";
import type { BoardId, SupplierId } from "./ids.ts";
import type { Board, State } from "./state.ts";

/** Actions on one board, which a domain decision makes. */
export type BoardAction = {
  [A in Action]: TargetOf<A>["kind"] extends "board" ? A : never;
}[Action];

/** Actions of one supplier, which a domain decision makes. */
export type SupplierAction = {
  [A in Action]: TargetOf<A>["kind"] extends "supplier" ? A : never;
}[Action];

/** The board a principal acts for, found by the organisation's KvK number. */
export function boardOf(state: State, principal: Principal): Board | undefined {
  for (const board of state.boards.values()) {
    if (board.kvk === principal.organisation) return board;
  }
  return undefined;
}

/**
 * Requires that the authorisation table lets a principal do `action` on
 * `board`, and that the board accepted the terms of use. Returns the board.
 */
export function requireBoardAction(
  state: State,
  principal: Principal,
  board: BoardId,
  action: BoardAction,
): Board {
  const found = state.boards.get(board);
  if (!found) throw new DomainError("not_found", `Board "${board}" does not exist`);
  requireAuthorised(principal, action, boardTarget(found));
  if (!found.termsAccepted) {
    throw new DomainError(
      "terms_not_accepted",
      `Board "${board}" has not accepted the terms of use yet`,
    );
  }
  return found;
}

/** Requires that the authorisation table lets a principal do `action` for `supplier`. */
export function requireSupplierAction(
  principal: Principal,
  supplier: SupplierId,
  action: SupplierAction,
): void {
  requireAuthorised(principal, action, supplierTarget(supplier));
}

/**
 * Requires that a principal may manage the API keys of `supplier`: the
 * table's rule for "supplier_keys.manage".
 */
export function requireSupplier(principal: Principal, supplier: SupplierId): void {
  requireSupplierAction(principal, supplier, "supplier_keys.manage");
}

/** Throws a "forbidden" domain error unless the authorisation table allows the action. */
export function requireAuthorised<A extends Action>(
  principal: Principal,
  action: A,
  target: TargetOf<A>,
): void {
  const decision = authorise(principal, action, target);
  if (!decision.allowed) throw new DomainError("forbidden", decision.reason);
}
