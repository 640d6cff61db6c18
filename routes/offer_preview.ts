import type { Principal } from "../domain/actor.ts";
import { compareModel } from "../domain/compare_model.ts";
import { compareVersions, type VersionSide } from "../domain/compare_versions.ts";
import { sha256Hex, versionContent } from "../domain/content.ts";
import { DomainError } from "../domain/errors.ts";
import { agreementKey, type BoardId, type SupplierId } from "../domain/ids.ts";
import { offerAgreement } from "../domain/offer_agreement.ts";
import type { Privacybijsluiter } from "../domain/privacybijsluiter.ts";
import type { AgreementState, AgreementStatus, State, Supplier } from "../domain/state.ts";
import type { HistoryStore } from "../store/history.ts";
import { renderMarkdown } from "../views/markdown.ts";
import type { OfferMode, PreviewBoard, PreviewGroup } from "../views/supplier_offer_page.ts";
import type { OfferDraft } from "./offer_form.ts";
import { readVersion } from "./version_reader.ts";

/**
 * One content offered to some boards; several contents only when one product
 * is replaced in boards whose current versions differ.
 */
export interface OfferGroup {
  boards: BoardId[];
  title: string;
  text: string;
  products: Privacybijsluiter[];
}

/**
 * What a chosen board has from the supplier as the preview decides against
 * it: its current version (number and tree oid) and state, or nothing yet.
 */
export interface BoardNow {
  board: BoardId;
  /** 0 when the board has no agreement with the supplier yet. */
  version: number;
  oid: string | null;
  state: AgreementState | null;
}

/** What {@link previewGroup} needs. */
export interface PreviewGroupOptions {
  store: HistoryStore<State>;
  principal: Principal;
  supplier: Supplier;
  group: OfferGroup;
  at: Date;
}

/**
 * The contents to offer: the draft as it is, or, for a new privacybijsluiter
 * of one product, each board's current version with that product replaced
 * (boards whose current versions are the same share one content).
 */
export async function offerGroups(
  store: HistoryStore<State>,
  draft: OfferDraft & { supplier: SupplierId },
): Promise<OfferGroup[]> {
  const { title, text, products, boards } = draft;
  if (draft.mode === "full") return [{ boards, title, text, products }];
  const product = products[0]!;
  const byVersion = new Map<string, { status: AgreementStatus; boards: BoardId[] }>();
  for (const board of boards) {
    const status = store.state.agreements.get(agreementKey(board, draft.supplier))!;
    const entry = byVersion.get(status.current.oid) ?? { status, boards: [] };
    entry.boards.push(board);
    byVersion.set(status.current.oid, entry);
  }
  const groups: OfferGroup[] = [];
  for (const { status, boards } of byVersion.values()) {
    const current = await readVersion(store, status, status.current.version);
    if (!current) throw new Error(`Cannot read version ${status.current.oid} from the history`);
    groups.push({
      boards,
      title: status.current.title,
      text: current.text,
      products: current.products.map((p) => p.product.id === product.product.id ? product : p),
    });
  }
  return groups;
}

/** What offering one content would do per board, decided against the state now; no commit. */
export async function previewGroup(options: PreviewGroupOptions): Promise<PreviewGroup> {
  const { store, supplier, group } = options;
  const { result } = offerAgreement(store.state, {
    principal: options.principal,
    supplier: supplier.id,
    ...group,
    at: options.at,
  });
  const content = versionContent(group);
  const next: VersionSide = { version: 0, oid: content.oid, ...group };
  const summaries = new Map<string, Promise<string>>();
  const boards: PreviewBoard[] = [];
  for (const outcome of result.agreements) {
    const previous = store.state.agreements.get(agreementKey(outcome.board, supplier.id));
    const board = boardName(store.state, outcome.board);
    if (!previous) {
      boards.push({ ...board, outcome: "new", version: outcome.version });
      continue;
    }
    if (outcome.outcome === "unchanged") {
      boards.push({ ...board, outcome: "identical", version: outcome.version });
      continue;
    }
    const key = previous.current.oid;
    if (!summaries.has(key)) summaries.set(key, changeSummary(store, previous, next));
    boards.push({
      ...board,
      outcome: previous.current.oid === content.oid ? "reoffered" : "changed",
      since: previous.current.version,
      sinceState: previous.state,
      version: outcome.version,
      changes: await summaries.get(key)!,
    });
  }
  return {
    oid: content.oid,
    contentSha256: content.contentSha256,
    title: group.title,
    textHtml: renderMarkdown(group.text),
    products: group.products.map((p) => ({
      id: p.product.id,
      name: p.product.name,
      version: p.product.version,
    })),
    boards,
    model: compareModel(group.text, { hasProducts: group.products.length > 0 }),
  };
}

/** What each chosen board has from the supplier now, in board order. */
export function boardsNow(state: State, supplier: SupplierId, boards: BoardId[]): BoardNow[] {
  return [...new Set(boards)].sort().map((board) => {
    const status = state.agreements.get(agreementKey(board, supplier));
    return status
      ? { board, version: status.current.version, oid: status.current.oid, state: status.state }
      : { board, version: 0, oid: null, state: null };
  });
}

/**
 * A digest of what the preview showed: which content goes to which boards,
 * and each chosen board's current version and state it was decided against.
 */
export function offerFingerprint(mode: OfferMode, groups: OfferGroup[], seen: BoardNow[]): string {
  const summary = groups.map((group) => ({
    oid: versionContent(group).oid,
    boards: [...group.boards].sort(),
  }));
  return sha256Hex(new TextEncoder().encode(JSON.stringify({ mode, summary, seen })));
}

/**
 * Refuses an offer when a chosen board's current version or state is no
 * longer what the preview showed: someone offered, reviewed or signed since,
 * and the offer must not silently replace that.
 */
export function requireBoardsAsSeen(state: State, supplier: SupplierId, seen: BoardNow[]): void {
  const now = boardsNow(state, supplier, seen.map((entry) => entry.board));
  for (const [index, entry] of seen.entries()) {
    const current = now[index]!;
    if (current.oid !== entry.oid || current.state !== entry.state) {
      throw new DomainError(
        "version_superseded",
        `Cannot offer to board "${entry.board}": it has version ${current.version} (${current.state}) now, the preview showed version ${entry.version} (${entry.state})`,
      );
    }
  }
}

/** A board's name as the pages show it, also for a board that is gone. */
export function boardName(state: State, id: BoardId): { id: BoardId; name: string } {
  return { id, name: state.boards.get(id)?.name ?? `Bestuur ${id}` };
}

async function changeSummary(
  store: HistoryStore<State>,
  previous: AgreementStatus,
  next: VersionSide,
): Promise<string> {
  const older = await readVersion(store, previous, previous.current.version);
  if (!older) return "";
  const comparison = compareVersions(older, next);
  const counts = comparison.text.counts;
  const text = comparison.text.identical
    ? "tekst gelijk"
    : `artikelen: ${counts.changed} gewijzigd, ${counts.added} toegevoegd, ` +
      `${counts.removed} verwijderd`;
  return `${text}; ${productSummary(comparison.products.map((p) => p.kind))}`;
}

function productSummary(kinds: Array<"added" | "removed" | "changed" | "unchanged">): string {
  const count = (kind: string) => kinds.filter((k) => k === kind).length;
  const parts = [
    [count("changed"), "gewijzigd"],
    [count("added"), "toegevoegd"],
    [count("removed"), "verwijderd"],
  ].filter(([n]) => n !== 0).map(([n, word]) => `${n} ${word}`);
  return parts.length === 0
    ? "privacybijsluiters gelijk"
    : `privacybijsluiters: ${parts.join(", ")}`;
}
