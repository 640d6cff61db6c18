import type { Decision } from "../store/history.ts";
import { actorRecord, type Principal } from "./actor.ts";
import { canonicalTitle, versionContent } from "./content.ts";
import { DomainError } from "./errors.ts";
import { eventCommit, isoSeconds, jsonFile } from "./event.ts";
import { agreementKey, type BoardId, type SupplierId } from "./ids.ts";
import { statusPath, versionDir } from "./paths.ts";
import { requireSupplierAction } from "./permissions.ts";
import type { Privacybijsluiter } from "./privacybijsluiter.ts";
import type { AgreementStatus, State } from "./state.ts";

/** A supplier's offer of one version to one or many boards. */
export interface OfferCommand {
  principal: Principal;
  supplier: SupplierId;
  boards: BoardId[];
  title: string;
  text: string;
  products: Privacybijsluiter[];
  at: Date;
  /** A client's key that makes a retried offer safe, with the request's fingerprint. */
  idempotency?: { key: string; requestSha256: string };
}

/** What an offer did for each board. */
export interface OfferResult {
  agreements: Array<{
    board: BoardId;
    version: number;
    /** "offered": a new version; "unchanged": this content already waits or is signed. */
    outcome: "offered" | "unchanged";
  }>;
  oid: string;
  contentSha256: string;
}

/**
 * Decides an offer: for every board, a first version or a new one that
 * supersedes the unsigned one. An earlier approval lapses; a signed version
 * stays in force. Offering the content that already waits or is signed
 * changes nothing for that board. All boards land in one commit or none.
 */
export function offerAgreement(state: State, command: OfferCommand): Decision<OfferResult> {
  requireSupplierAction(command.principal, command.supplier, "offer.create");
  const supplier = state.suppliers.get(command.supplier);
  if (!supplier) {
    throw new DomainError("not_found", `Supplier "${command.supplier}" is not registered`);
  }
  checkProducts(command);

  const content = versionContent(command);
  const actor = actorRecord(command.principal, "leverancier");
  const at = isoSeconds(command.at);
  const files = new Map<string, Uint8Array | null>();
  const result: OfferResult = {
    agreements: [],
    oid: content.oid,
    contentSha256: content.contentSha256,
  };
  const trailers: Array<[string, string]> = [];

  for (const board of new Set(command.boards)) {
    if (!state.boards.has(board)) {
      throw new DomainError("not_found", `Board "${board}" does not exist`);
    }
    const previous = state.agreements.get(agreementKey(board, command.supplier));
    if (previous && isSameContentStillValid(previous, content.oid)) {
      result.agreements.push({ board, version: previous.current.version, outcome: "unchanged" });
      continue;
    }
    const version = (previous?.current.version ?? 0) + 1;
    const ref = { version, oid: content.oid, contentSha256: content.contentSha256 };
    const status: AgreementStatus = {
      board,
      supplier: command.supplier,
      state: "offered",
      current: {
        ...ref,
        offeredAt: at,
        title: canonicalTitle(command.title).trimEnd(),
        products: command.products.map((p) => p.product.id).sort(),
      },
      ...(previous?.inForce ? { inForce: previous.inForce } : {}),
      history: [...(previous?.history ?? []), { action: "offered", ...ref, at, actor }],
    };
    for (const product of previous?.current.products ?? []) {
      files.set(`${versionDir(board, command.supplier)}/products/${product}.json`, null);
    }
    for (const [path, bytes] of content.files) {
      files.set(`${versionDir(board, command.supplier)}/${path}`, bytes);
    }
    files.set(statusPath(board, command.supplier), jsonFile(status));
    trailers.push(["Agreement", `${board}/${command.supplier} version ${version}`]);
    result.agreements.push({ board, version, outcome: "offered" });
  }

  if (trailers.length === 0) return { commit: null, result };
  const count = trailers.length;
  return {
    commit: eventCommit({
      kind: "offered",
      subject: `Offer "${oneLine(command.title)}" by ${supplier.name} to ${count} board${
        count === 1 ? "" : "s"
      }`,
      trailers: [
        ...trailers,
        ["Version-Oid", content.oid],
        ["Content-SHA256", content.contentSha256],
        ...idempotencyTrailers(command),
      ],
      actor,
      at: command.at,
      files,
    }),
    result,
  };
}

function idempotencyTrailers(command: OfferCommand): Array<[string, string]> {
  if (!command.idempotency) return [];
  return [
    ["Idempotency-Key", command.idempotency.key],
    ["Request-SHA256", command.idempotency.requestSha256],
  ];
}

function isSameContentStillValid(previous: AgreementStatus, oid: string): boolean {
  if (previous.current.oid !== oid) return false;
  return previous.state === "offered" || previous.state === "approved" ||
    previous.state === "signed";
}

function checkProducts(command: OfferCommand): void {
  const seen = new Set<string>();
  for (const product of command.products) {
    if (product.supplier.kvk !== command.supplier) {
      throw new DomainError(
        "invalid_input",
        `Product "${product.product.id}" names supplier "${product.supplier.kvk}", not "${command.supplier}"`,
      );
    }
    if (seen.has(product.product.id)) {
      throw new DomainError("invalid_input", `Product "${product.product.id}" appears twice`);
    }
    seen.add(product.product.id);
  }
}

/** A text on one line, for commit subjects. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 120);
}
