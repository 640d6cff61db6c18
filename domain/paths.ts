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

/** A supplier's registered API key, named by its RFC 7638 thumbprint. */
export function apiKeyPath(supplier: SupplierId, thumbprint: string): string {
  return `suppliers/${supplier}/api_keys/${thumbprint}.json`;
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
const API_KEY_FILE = /^suppliers\/(\d{8})\/api_keys\/([A-Za-z0-9_-]{43})\.json$/;
const STATUS_FILE = /^agreements\/(\d{5})\/(\d{8})\/status\.json$/;

/** Classifies a path of the tree as one the state is derived from. */
export function parseStatePath(
  path: string,
):
  | { kind: "board"; board: BoardId }
  | { kind: "supplier"; supplier: SupplierId }
  | { kind: "status"; board: BoardId; supplier: SupplierId }
  | { kind: "api-key"; supplier: SupplierId; thumbprint: string }
  | null {
  const board = BOARD_FILE.exec(path);
  if (board) return { kind: "board", board: board[1]! };
  const supplier = SUPPLIER_FILE.exec(path);
  if (supplier) return { kind: "supplier", supplier: supplier[1]! };
  const status = STATUS_FILE.exec(path);
  if (status) return { kind: "status", board: status[1]!, supplier: status[2]! };
  const apiKey = API_KEY_FILE.exec(path);
  if (apiKey) return { kind: "api-key", supplier: apiKey[1]!, thumbprint: apiKey[2]! };
  return null;
}
