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

/** What was sent to remind a board of the step the agreement waits on. */
export function remindersPath(board: BoardId, supplier: SupplierId): string {
  return `${agreementDir(board, supplier)}/reminders.json`;
}

/** One invitation of a board to a supplier that is not on Akkoord yet. */
export function invitationPath(board: BoardId, id: string): string {
  return `invitations/${board}/${id}.json`;
}

const BOARD_FILE = /^boards\/(\d{5})\.json$/;
const SUPPLIER_FILE = /^suppliers\/(\d{8})\.json$/;
const API_KEY_FILE = /^suppliers\/(\d{8})\/api_keys\/([A-Za-z0-9_-]{43})\.json$/;
const STATUS_FILE = /^agreements\/(\d{5})\/(\d{8})\/status\.json$/;
const REMINDERS_FILE = /^agreements\/(\d{5})\/(\d{8})\/reminders\.json$/;
const INVITATION_FILE = /^invitations\/(\d{5})\/([0-9a-f]{16})\.json$/;

/** Classifies a path of the tree as one the state is derived from. */
export function parseStatePath(
  path: string,
):
  | { kind: "board"; board: BoardId }
  | { kind: "supplier"; supplier: SupplierId }
  | { kind: "status"; board: BoardId; supplier: SupplierId }
  | { kind: "api-key"; supplier: SupplierId; thumbprint: string }
  | { kind: "reminders"; board: BoardId; supplier: SupplierId }
  | { kind: "invitation"; board: BoardId; id: string }
  | null {
  const board = BOARD_FILE.exec(path);
  if (board) return { kind: "board", board: board[1]! };
  const supplier = SUPPLIER_FILE.exec(path);
  if (supplier) return { kind: "supplier", supplier: supplier[1]! };
  const status = STATUS_FILE.exec(path);
  if (status) return { kind: "status", board: status[1]!, supplier: status[2]! };
  const apiKey = API_KEY_FILE.exec(path);
  if (apiKey) return { kind: "api-key", supplier: apiKey[1]!, thumbprint: apiKey[2]! };
  const reminders = REMINDERS_FILE.exec(path);
  if (reminders) return { kind: "reminders", board: reminders[1]!, supplier: reminders[2]! };
  const invitation = INVITATION_FILE.exec(path);
  if (invitation) return { kind: "invitation", board: invitation[1]!, id: invitation[2]! };
  return null;
}
