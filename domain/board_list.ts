import { z } from "zod";
import { parseCsv } from "./csv.ts";
import { DomainError } from "./errors.ts";
import { BoardId, KvkNumber, SupplierId } from "./ids.ts";
import { isMailAddress, isSingleLine } from "./invite_supplier.ts";
import { findHiddenCharacter, type HiddenCharacter } from "./plain_text.ts";
import type { Board } from "./state.ts";

/** The sectors of DUO's list: primary, special, secondary, vocational and higher education. */
export const SECTORS = ["bo", "so", "vo", "mbo", "ho"] as const;

/** The longest board name, in characters. */
export const BOARD_NAME_MAX_LENGTH = 300;

/** The most boards one registry file may hold; DUO lists about 1,500. */
export const BOARD_LIST_MAX_ROWS = 5000;

/** The columns of DUO's open list of boards, in order. */
export const DUO_COLUMNS = ["bevoegd_gezag", "kvk", "naam", "sector"] as const;

/** The columns of a registry file: DUO's, and the board's registered contact address. */
export const REGISTRY_COLUMNS = [...DUO_COLUMNS, "contact_email"] as const;

/** One column of a registry file. */
export type RegistryColumn = (typeof REGISTRY_COLUMNS)[number];

/** Whether a sector cell names one or more of {@link SECTORS}, each once, joined by `+`. */
export function isSectorList(value: string): boolean {
  const parts = value.split("+");
  return parts.every((part) => (SECTORS as readonly string[]).includes(part)) &&
    new Set(parts).size === parts.length;
}

/** A board's name: visible, on one line, without hidden characters. */
export const BoardName = z.string()
  .refine(isSingleLine, "a board name is visible text on one line")
  .refine((name) => name.length <= BOARD_NAME_MAX_LENGTH, "a board name is too long")
  .refine((name) => findHiddenCharacter(name) === null, "a board name has a hidden character");

/** A board's DUO sectors, such as `bo` or `bo+so+vo`. */
export const BoardSector = z.string().refine(
  isSectorList,
  `a sector is one of ${SECTORS.join(", ")}, several joined by "+"`,
);

/** A registered contact address: one plain e-mail address. */
export const ContactAddress = z.string().refine(
  isMailAddress,
  "a contact address is one plain e-mail address",
);

/**
 * A supplier as an administrator registers it: its KvK number, a name by the
 * rules of a board's name, and one contact address.
 */
export const RegisteredSupplier = z.object({
  id: SupplierId,
  name: BoardName,
  contactEmail: ContactAddress,
});

/** One row of DUO's open list: bevoegd_gezag, kvk, naam, sector. */
export const DuoBoardRow = z.tuple([BoardId, KvkNumber, BoardName, BoardSector]);

/** One row of a registry file: DUO's columns and the board's contact address. */
export const RegistryBoardRow = z.tuple([
  BoardId,
  KvkNumber,
  BoardName,
  BoardSector,
  ContactAddress,
]);

/** Why a registry file cannot be registered; rows count as a spreadsheet does (the header is 1). */
export type BoardListProblem =
  | { kind: "syntax"; line: number | null }
  | { kind: "header"; found: string[] }
  | { kind: "no_rows" }
  | { kind: "too_many"; rows: number }
  | { kind: "columns"; row: number; found: number }
  | {
    kind: "cell";
    row: number;
    column: RegistryColumn;
    /** The cell as the file has it, around white space included. */
    value: string;
    hidden: HiddenCharacter | null;
  }
  | { kind: "duplicate"; row: number; id: string; first: number };

/** A registry file read: its boards when every row is valid, else what is wrong. */
export type BoardList =
  | { ok: true; boards: Board[] }
  | { ok: false; problems: BoardListProblem[] };

/**
 * Reads a registry file: DUO's list of boards (CSV, header
 * `bevoegd_gezag,kvk,naam,sector,contact_email`) with the contact address
 * each board registered. Cells are read as text, so leading zeros stay; white
 * spaces and tabs around a cell are ignored. Every row is checked and every problem
 * reported; a file with any problem yields no boards at all.
 */
export function readBoardList(text: string): BoardList {
  let records: string[][];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const line = /line (\d+)/.exec(error.message)?.[1];
    return failed({ kind: "syntax", line: line === undefined ? null : Number(line) });
  }
  const rows = records
    .map((cells, index) => ({ row: index + 1, cells }))
    .filter(({ cells }) => cells.some((cell) => trimSpaces(cell) !== ""));
  const [header, ...body] = rows;
  const found = header?.cells.map(trimSpaces) ?? [];
  if (found.join(",") !== REGISTRY_COLUMNS.join(",")) return failed({ kind: "header", found });
  if (body.length === 0) return failed({ kind: "no_rows" });
  if (body.length > BOARD_LIST_MAX_ROWS) return failed({ kind: "too_many", rows: body.length });

  const problems: BoardListProblem[] = [];
  const boards: Board[] = [];
  const firstRow = new Map<string, number>();
  for (const { row, cells } of body) {
    if (cells.length !== REGISTRY_COLUMNS.length) {
      problems.push({ kind: "columns", row, found: cells.length });
      continue;
    }
    const parsed = RegistryBoardRow.safeParse(cells.map(trimSpaces));
    if (!parsed.success) {
      const columns = new Set(parsed.error.issues.map((issue) => Number(issue.path[0])));
      for (const index of [...columns].sort((a, b) => a - b)) {
        const value = cells[index]!;
        const column = REGISTRY_COLUMNS[index]!;
        problems.push({ kind: "cell", row, column, value, hidden: findHiddenCharacter(value) });
      }
      continue;
    }
    const [id, kvk, name, sector, contactEmail] = parsed.data;
    const first = firstRow.get(id);
    if (first !== undefined) {
      problems.push({ kind: "duplicate", row, id, first });
      continue;
    }
    firstRow.set(id, row);
    boards.push({ id, kvk, name, sector, contactEmail });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, boards };
}

/**
 * A cell without the spaces and tabs around it. Unlike `String.prototype.trim`
 * it keeps a byte order mark, which is refused as a hidden character.
 */
export function trimSpaces(cell: string): string {
  return cell.replace(/^[ \t]+|[ \t]+$/g, "");
}

function failed(problem: BoardListProblem): BoardList {
  return { ok: false, problems: [problem] };
}
