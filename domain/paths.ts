import type { BoardId, SupplierId } from "./ids.ts";

/**
 * The tree layout of the history repository. Ids are validated path-safe
 * tokens, so paths built here never escape their directory.
 */
export function boardPath(board: BoardId): string {
  return `boards/${board}.json`;
}

export function supplierPath(supplier: SupplierId): string {
  return `suppliers/${supplier}.json`;
}

export function agreementDir(board: BoardId, supplier: SupplierId): string {
  return `agreements/${board}/${supplier}`;
}

export function statusPath(board: BoardId, supplier: SupplierId): string {
  return `${agreementDir(board, supplier)}/status.json`;
}

/** The directory holding the current version's text and privacybijsluiters. */
export function versionDir(board: BoardId, supplier: SupplierId): string {
  return `${agreementDir(board, supplier)}/version`;
}

const BOARD_FILE = /^boards\/(\d{5})\.json$/;
const SUPPLIER_FILE = /^suppliers\/(\d{8})\.json$/;
const STATUS_FILE = /^agreements\/(\d{5})\/(\d{8})\/status\.json$/;

/** Classifies a path of the tree as one the state is derived from. */
export function parseStatePath(
  path: string,
):
  | { kind: "board"; board: BoardId }
  | { kind: "supplier"; supplier: SupplierId }
  | { kind: "status"; board: BoardId; supplier: SupplierId }
  | null {
  const board = BOARD_FILE.exec(path);
  if (board) return { kind: "board", board: board[1]! };
  const supplier = SUPPLIER_FILE.exec(path);
  if (supplier) return { kind: "supplier", supplier: supplier[1]! };
  const status = STATUS_FILE.exec(path);
  if (status) return { kind: "status", board: status[1]!, supplier: status[2]! };
  return null;
}
