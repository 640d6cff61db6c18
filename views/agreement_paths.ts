import type { BoardId, SupplierId } from "../domain/ids.ts";

/** The address of an agreement's page, or of an action on it ("approve", "sign", ...). */
export function agreementPath(board: BoardId, supplier: SupplierId, action?: string): string {
  const base = `/boards/${encodeURIComponent(board)}/agreements/${encodeURIComponent(supplier)}`;
  return action === undefined ? base : `${base}/${action}`;
}
