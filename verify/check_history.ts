/**
 * The auditor's checks, as functions without I/O over loaded commits: the
 * history is linear, every event's trailers parse, every commit changes
 * exactly what its event says, each named version's oid and content hash
 * are recomputed from the tree, and the agreement lifecycle replayed from
 * the events is never violated.
 */
import { findSigner, parseAllowedSigners } from "./allowed_signers.ts";
import {
  apiKeyPathOf,
  checkApiKeyActor,
  checkApiKeyRegistered,
  checkApiKeyRevoked,
} from "./check_api_key.ts";
import { checkDecision, checkOffered } from "./check_agreement.ts";
import { checkInvitation, checkReminder, invitationPathOf } from "./check_reminder.ts";
import type { CommitObject } from "./commit_object.ts";
import { type EventKind, type EventRecord, parseEvent } from "./event_trailers.ts";
import { asRecord, readJson, readText, sameJson } from "./json_values.ts";
import type { Change, LoadedCommit } from "./loaded_commit.ts";
import {
  type CheckContext,
  type Replay,
  requireOrganisation,
  requireRole,
  sameActor,
  type SigningKey,
  Violation,
} from "./replay.ts";

/** What one board's agreements came to. */
export interface BoardSummary {
  id: string;
  name: string;
  signed: number;
  waiting: number;
  rejected: number;
  withdrawn: number;
  events: number;
}

const SIGNERS_PATH = "keys/allowed_signers";
const README_PATH = "README.md";
const FILE_MODE = "100644";
const BOARD_FILE = /^boards\/(\d{5})\.json$/;
const SUPPLIER_FILE = /^suppliers\/(\d{8})\.json$/;
const BOARD_ROLES = new Set(["beoordelen", "ondertekenen"]);

/**
 * Checks one commit, the next on the first-parent chain, whose signature was
 * verified with `key`, and advances the replay. Throws a {@link Violation}
 * naming the first rule it breaks.
 */
export function checkCommit(replay: Replay, loaded: LoadedCommit, key: SigningKey): void {
  const position = replay.position + 1;
  const fail = (what: string) => new Violation(loaded.object, position, what);
  checkLinear(replay, loaded.object, fail);
  let event: EventRecord;
  try {
    event = parseEvent(loaded.object.trailers);
  } catch (error) {
    throw fail(`its trailers are wrong: ${messageOf(error)}`);
  }
  const signersBefore = replay.signers ?? [];
  const context: CheckContext = { replay, loaded, event, signersBefore, fail };
  checkChangedPaths(context);
  applySigners(context, key);
  checkApiKeyActor(context);
  EVENT_CHECKS[event.kind](context);
  replay.position = position;
  replay.head = loaded.object.oid;
  replay.keys.add(key.fingerprint);
  replay.events.set(event.kind, (replay.events.get(event.kind) ?? 0) + 1);
}

/** The violation of a commit whose signature did not verify. */
export function signatureViolation(
  replay: Replay,
  commit: CommitObject,
  reason: string,
): Violation {
  return new Violation(commit, replay.position + 1, `its signature is not valid: ${reason}`);
}

/**
 * Checks that `checkpoint`, a head the auditor recorded earlier, is on the
 * first-parent chain, so that today's history extends the one seen then.
 */
export function checkCheckpoint(chain: string[], checkpoint: string): void {
  if (chain.includes(checkpoint.toLowerCase())) return;
  throw new Error(
    `The history at ${chain.at(-1) ?? "(empty)"} does not descend from checkpoint ${checkpoint}: ` +
      "that commit is not on its first-parent chain, so the history was rewritten or is another one",
  );
}

/** Per board with at least one event: its agreements by state and its number of events. */
export function summarise(replay: Replay): BoardSummary[] {
  const summaries = new Map<string, BoardSummary>();
  for (const board of replay.boards.values()) {
    if (board.events === 0) continue;
    summaries.set(board.id, {
      id: board.id,
      name: board.name,
      signed: 0,
      waiting: 0,
      rejected: 0,
      withdrawn: 0,
      events: board.events,
    });
  }
  for (const agreement of replay.agreements.values()) {
    const summary = summaries.get(agreement.board);
    if (summary === undefined) continue;
    if (agreement.state === "signed") summary.signed++;
    else if (agreement.state === "rejected") summary.rejected++;
    else if (agreement.state === "withdrawn") summary.withdrawn++;
    else summary.waiting++;
  }
  return [...summaries.values()].sort((a, b) => a.id.localeCompare(b.id));
}

const EVENT_CHECKS: Record<EventKind, (context: CheckContext) => void> = {
  "board-registered": checkRegistration,
  "supplier-registered": checkRegistration,
  "terms-accepted": checkTermsAccepted,
  offered: checkOffered,
  approved: checkDecision,
  rejected: checkDecision,
  signed: checkDecision,
  withdrawn: checkDecision,
  "readme-updated": checkReadme,
  "key-rotated": checkKeyRotated,
  "api-key-registered": checkApiKeyRegistered,
  "api-key-revoked": checkApiKeyRevoked,
  reminded: checkReminder,
  escalated: checkReminder,
  "supplier-invited": checkInvitation,
};

function checkLinear(replay: Replay, commit: CommitObject, fail: CheckContext["fail"]): void {
  if (commit.parents.length > 1) {
    throw fail(`it merges ${commit.parents.length} parents; the history must be one line`);
  }
  const parent = commit.parents[0] ?? null;
  if (replay.head === null && parent !== null) {
    throw fail(`the oldest commit has parent ${parent}: the history is incomplete (shallow?)`);
  }
  if (replay.head !== null && parent === null) {
    throw fail("it is a second root commit; the history must have exactly one");
  }
  if (parent !== replay.head) {
    throw fail(`its parent is ${parent}, not the commit before it, ${replay.head}`);
  }
}

function checkChangedPaths(context: CheckContext): void {
  const { loaded, event, replay, fail } = context;
  if (loaded.changes.length === 0) throw fail("it changes no file");
  for (const change of loaded.changes) {
    if (change.oid !== null && change.mode !== FILE_MODE) {
      throw fail(`it writes "${change.path}" with mode ${change.mode}, not a regular file`);
    }
    const rootSigners = replay.head === null && change.path === SIGNERS_PATH;
    if (!rootSigners && !mayChange(event, change)) {
      throw fail(`it changes "${change.path}" (${change.status}), which ${event.kind} may not`);
    }
  }
}

function mayChange(event: EventRecord, change: Change): boolean {
  const { path, status } = change;
  switch (event.kind) {
    case "board-registered":
    case "supplier-registered":
      return status !== "D" && (BOARD_FILE.test(path) || SUPPLIER_FILE.test(path));
    case "terms-accepted":
      return status === "M" && path === `boards/${event.board}.json`;
    case "offered":
      return event.agreements.some((a) =>
        path === `agreements/${a.key}/status.json` ||
        path.startsWith(`agreements/${a.key}/version/`)
      );
    case "readme-updated":
      return status !== "D" && path === README_PATH;
    case "key-rotated":
      return status === "M" && path === SIGNERS_PATH;
    case "api-key-registered":
      return status === "A" && path === apiKeyPathOf(event.apiKey!);
    case "api-key-revoked":
      return status === "M" && path === apiKeyPathOf(event.apiKey!);
    case "reminded":
    case "escalated":
      return status !== "D" && path === `agreements/${event.agreements[0]?.key}/reminders.json`;
    case "supplier-invited":
      return status === "A" && path === invitationPathOf(event);
    default:
      return status === "M" && path === `agreements/${event.agreements[0]?.key}/status.json`;
  }
}

/**
 * Keeps keys/allowed_signers of the tree, and requires that it lets the key
 * that signed this commit sign at the committer time: the repository's own
 * file must agree with the one the auditor trusts.
 */
function applySigners(context: CheckContext, key: SigningKey): void {
  const { replay, loaded, fail } = context;
  if (loaded.files.has(SIGNERS_PATH)) {
    const text = readText(loaded.files.get(SIGNERS_PATH) ?? null, SIGNERS_PATH, fail);
    try {
      replay.signers = parseAllowedSigners(text, SIGNERS_PATH);
    } catch (error) {
      throw fail(messageOf(error));
    }
  }
  if (replay.signers === null) throw fail(`its tree has no ${SIGNERS_PATH}`);
  const match = findSigner(replay.signers, {
    keyBlob: key.keyBlob,
    principal: replay.principal,
    namespace: "git",
    time: loaded.object.committer.time,
  });
  if (!match.ok) {
    throw fail(`${SIGNERS_PATH} in its own tree does not allow its signer: ${match.reason}`);
  }
}

function checkRegistration(context: CheckContext): void {
  const { replay, loaded, event, fail } = context;
  // The service registers its demo data itself; administrators register the rest.
  requireRole(context, ["systeem", "beheer"]);
  let boards = 0;
  for (const [path, content] of loaded.files) {
    const board = BOARD_FILE.exec(path);
    const supplier = SUPPLIER_FILE.exec(path);
    if (board !== null) {
      registerBoard(context, board[1]!, readJson(content, path, fail));
      boards++;
    } else if (supplier !== null) {
      const record = readJson(content, path, fail);
      if (record.id !== supplier[1] || typeof record.name !== "string") {
        throw fail(`${path} does not hold supplier "${supplier[1]}" with a name`);
      }
      replay.suppliers.set(supplier[1]!, record.name);
    }
  }
  if (event.kind === "supplier-registered" && boards > 0) {
    throw fail("a supplier-registered event changes boards; that is board-registered");
  }
  if (event.kind === "board-registered" && boards === 0) {
    throw fail("a board-registered event changes no board");
  }
}

function registerBoard(context: CheckContext, id: string, record: Record<string, unknown>): void {
  const { replay, fail } = context;
  const path = `boards/${id}.json`;
  if (record.id !== id || typeof record.kvk !== "string" || !/^\d{8}$/.test(record.kvk)) {
    throw fail(`${path} does not hold board "${id}" with a KvK number of 8 digits`);
  }
  const previous = replay.boards.get(id);
  if (!sameJson(record.termsAccepted, previous?.record.termsAccepted)) {
    throw fail(`it changes the terms-of-use acceptance of board "${id}" without terms-accepted`);
  }
  replay.boards.set(id, {
    id,
    name: typeof record.name === "string" ? record.name : id,
    kvk: record.kvk,
    record,
    termsAccepted: previous?.termsAccepted ?? false,
    events: previous?.events ?? 0,
  });
}

function checkTermsAccepted(context: CheckContext): void {
  const { replay, loaded, event, fail } = context;
  const id = event.board!;
  const board = replay.boards.get(id);
  if (board === undefined) throw fail(`board "${id}" is not registered`);
  if (!BOARD_ROLES.has(event.actor.role)) {
    throw fail(`the terms are accepted in role "${event.actor.role}", not with a board mandate`);
  }
  requireOrganisation(context, board.kvk, `board "${id}"`);
  if (board.termsAccepted) throw fail(`board "${id}" accepted the terms of use already`);
  const path = `boards/${id}.json`;
  const record = readJson(loaded.files.get(path) ?? null, path, fail);
  const { termsAccepted, ...rest } = record;
  if (!sameJson(rest, board.record)) {
    throw fail(`it changes more of ${path} than the terms-of-use acceptance`);
  }
  const terms = asRecord(termsAccepted);
  if (terms?.version !== event.termsVersion || !sameActor(terms?.actor, event)) {
    throw fail(`the acceptance in ${path} differs from the Terms-Version and actor trailers`);
  }
  board.record = record;
  board.termsAccepted = true;
  board.events++;
}

function checkReadme(context: CheckContext): void {
  requireRole(context, "systeem");
  readText(context.loaded.files.get(README_PATH) ?? null, README_PATH, context.fail);
}

function checkKeyRotated(context: CheckContext): void {
  const { replay, fail } = context;
  requireRole(context, "systeem");
  for (const old of context.signersBefore) {
    const kept = (replay.signers ?? []).some((s) => sameBytes(s.keyBlob, old.keyBlob));
    if (!kept) throw fail(`it drops the key of ${SIGNERS_PATH} line ${old.line}`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
