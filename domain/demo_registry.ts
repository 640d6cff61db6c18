import { z } from "zod";
import { DUO_COLUMNS, DuoBoardRow } from "./board_list.ts";
import { parseCsv } from "./csv.ts";
import { KvkNumber } from "./ids.ts";
import type { Board, Supplier } from "./state.ts";

const SupplierList = z.array(
  z.strictObject({ id: KvkNumber, name: z.string().min(1), contactEmail: z.email() }),
);

/**
 * The boards of DUO's open list (columns bevoegd_gezag, kvk, naam, sector).
 * Public lists carry no e-mail addresses, so each demo board gets
 * `privacy@bg<bevoegd_gezag>.besturen.example` under the reserved domain.
 */
export function demoBoards(csv: string): Board[] {
  const [header, ...rows] = parseCsv(csv).filter((row) => row.some((cell) => cell !== ""));
  if (header?.join(",") !== DUO_COLUMNS.join(",")) {
    throw new Error(
      `The board list has columns "${header?.join(",")}", expected ${DUO_COLUMNS.join(",")}`,
    );
  }
  return rows.map((row, index) => {
    const parsed = DuoBoardRow.safeParse(row);
    if (!parsed.success) {
      throw new Error(
        `Row ${index + 2} of the board list is not valid: ${parsed.error.issues[0]?.message}`,
      );
    }
    const [id, kvk, name, sector] = parsed.data;
    return { id, kvk, name, sector, contactEmail: `privacy@bg${id}.besturen.example` };
  });
}

/** The demo suppliers of seed/suppliers.json. */
export function demoSuppliers(json: string): Supplier[] {
  return SupplierList.parse(JSON.parse(json));
}
