/**
 * The checks of offers and decisions on agreements: the version directory
 * at the commit is what the trailers name, status.json says what the event
 * did, and the lifecycle replayed from the events allows it.
 */
import { contentSha256, treeOid } from "../domain/content.ts";
import type { AgreementRef } from "./event_trailers.ts";
import {
  asRecord,
  asRef,
  flatten,
  readJson,
  sameJson,
  sameRef,
  type VersionRef,
} from "./json_values.ts";
import type { VersionTree } from "./loaded_commit.ts";
import {
  type AgreementReplay,
  type BoardReplay,
  type CheckContext,
  requireBoard,
  requireOrganisation,
  requireRole,
  sameActor,
  type Violation,
} from "./replay.ts";

const FILE_MODE = "100644";
const digests = new WeakMap<VersionTree, { treeOid: string; contentSha256: string }>();

/** An offer: a next version of each named agreement, by its supplier, with the content named. */
export function checkOffered(context: CheckContext): void {
  const { replay, event, fail } = context;
  requireRole(context, "leverancier");
  for (const agreement of event.agreements) {
    const board = requireBoard(context, agreement);
    if (!replay.suppliers.has(agreement.supplier)) {
      throw fail(`supplier "${agreement.supplier}" is not registered`);
    }
    requireOrganisation(context, agreement.supplier, `supplier "${agreement.supplier}"`);
    const previous = replay.agreements.get(agreement.key);
    const expected = (previous?.current.version ?? 0) + 1;
    if (agreement.version !== expected) {
      throw fail(`it offers version ${agreement.version} of ${agreement.key}, not ${expected}`);
    }
    const ref = checkVersionContent(context, agreement);
    const status = checkStatus(context, agreement, previous, "offered", ref);
    replay.agreements.set(agreement.key, {
      board: agreement.board,
      supplier: agreement.supplier,
      state: "offered",
      current: ref,
      inForce: previous?.inForce ?? null,
      status,
    });
    board.events++;
  }
}

/** A review, signature or withdrawal of the current version, by whom the lifecycle allows. */
export function checkDecision(context: CheckContext): void {
  const { replay, event, fail } = context;
  const agreement = event.agreements[0]!;
  const board = requireBoard(context, agreement);
  const previous = replay.agreements.get(agreement.key);
  if (previous === undefined) throw fail(`agreement ${agreement.key} was never offered`);
  const ref = checkVersionContent(context, agreement);
  if (!sameRef(ref, previous.current)) {
    throw fail(
      `it names version ${ref.version} (${ref.oid}), but the current version of ${agreement.key} ` +
        `is ${previous.current.version} (${previous.current.oid})`,
    );
  }
  checkActorMayDecide(context, agreement, board);
  checkTransition(context, agreement, previous);
  const kind = event.kind as AgreementReplay["state"];
  const status = checkStatus(context, agreement, previous, kind, ref);
  previous.state = kind;
  previous.status = status;
  if (kind === "signed") previous.inForce = ref;
  board.events++;
}

function checkActorMayDecide(
  context: CheckContext,
  agreement: AgreementRef,
  board: BoardReplay,
): void {
  const { event, fail } = context;
  if (event.kind === "withdrawn") {
    requireRole(context, "leverancier");
    requireOrganisation(context, agreement.supplier, `supplier "${agreement.supplier}"`);
    return;
  }
  requireRole(context, event.kind === "signed" ? "ondertekenen" : "beoordelen");
  requireOrganisation(context, board.kvk, `board "${board.id}"`);
  if (!board.termsAccepted) {
    throw fail(`board "${board.id}" acts before it accepted the terms of use`);
  }
}

function checkTransition(
  context: CheckContext,
  agreement: AgreementRef,
  previous: AgreementReplay,
) {
  const { event, fail } = context;
  const allowed: Record<string, AgreementReplay["state"][]> = {
    approved: ["offered"],
    rejected: ["offered", "approved"],
    signed: ["approved"],
    withdrawn: ["offered", "approved"],
  };
  if (allowed[event.kind]?.includes(previous.state)) return;
  const verb = event.kind.replace(/e?d$/, "");
  throw fail(
    `cannot ${verb} version ${agreement.version} of ${agreement.key}: it is ${previous.state}` +
      (event.kind === "signed" ? ", not approved" : ""),
  );
}

/**
 * The version directory at this commit: its oid must be the Version-Oid and
 * its files must hash to the Content-SHA256, both recomputed here with the
 * project's own canonical functions.
 */
function checkVersionContent(context: CheckContext, agreement: AgreementRef): VersionRef {
  const { loaded, event, fail } = context;
  const dir = `agreements/${agreement.key}/version`;
  const tree = loaded.versions.get(agreement.key) ?? null;
  if (tree === null) throw fail(`${dir} does not exist at this commit`);
  const digest = versionDigest(tree, dir, fail);
  if (tree.oid !== event.versionOid || digest.treeOid !== event.versionOid) {
    throw fail(`its Version-Oid ${event.versionOid} is not the tree oid ${tree.oid} of ${dir}`);
  }
  if (digest.contentSha256 !== event.contentSha256) {
    throw fail(
      `its Content-SHA256 ${event.contentSha256} does not match the content of ${dir}, ` +
        `which hashes to ${digest.contentSha256}`,
    );
  }
  return { version: agreement.version, oid: tree.oid, contentSha256: digest.contentSha256 };
}

function versionDigest(tree: VersionTree, dir: string, fail: CheckContext["fail"]) {
  const cached = digests.get(tree);
  if (cached !== undefined) return cached;
  const files = new Map<string, Uint8Array>();
  for (const [path, file] of tree.files) {
    if (file.mode !== FILE_MODE) throw fail(`${dir}/${path} has mode ${file.mode}, not a file`);
    files.set(path, file.content);
  }
  for (const required of ["agreement.md", "title.txt"]) {
    if (!files.has(required)) throw fail(`${dir} has no ${required}`);
  }
  const digest = { treeOid: treeOid(files), contentSha256: contentSha256(files) };
  digests.set(tree, digest);
  return digest;
}

/**
 * Requires status.json after the event to say what the event did: the state,
 * the current version, the version in force, and the history of the status
 * before plus exactly one entry for this event by this actor.
 */
function checkStatus(
  context: CheckContext,
  agreement: AgreementRef,
  previous: AgreementReplay | undefined,
  state: AgreementReplay["state"],
  ref: VersionRef,
): Record<string, unknown> {
  const { loaded, event, fail } = context;
  const path = `agreements/${agreement.key}/status.json`;
  if (!loaded.files.has(path)) throw fail(`it does not change ${path}`);
  const status = readJson(loaded.files.get(path) ?? null, path, fail);
  const wrong = (what: string) => fail(`${path} ${what}`);
  if (status.board !== agreement.board || status.supplier !== agreement.supplier) {
    throw wrong("names another board or supplier");
  }
  if (status.state !== state) throw wrong(`says "${String(status.state)}", not "${state}"`);
  if (!sameRef(asRef(status.current), ref)) {
    throw wrong(`does not name version ${ref.version} (${ref.oid}) as current`);
  }
  if (event.kind !== "offered" && !sameJson(status.current, previous?.status.current)) {
    throw wrong("changes its current version in a decision");
  }
  const inForce = state === "signed" ? ref : previous?.inForce ?? null;
  if (!sameRef(asRef(status.inForce), inForce)) {
    throw wrong(`does not keep version ${inForce?.version ?? "(none)"} in force`);
  }
  checkHistoryEntries(context, status, previous, state, ref, wrong);
  return status;
}

function checkHistoryEntries(
  context: CheckContext,
  status: Record<string, unknown>,
  previous: AgreementReplay | undefined,
  action: string,
  ref: VersionRef,
  wrong: (what: string) => Violation,
): void {
  const history = Array.isArray(status.history) ? status.history : null;
  const before = previous === undefined ? [] : previous.status.history as unknown[];
  if (history === null || history.length !== before.length + 1) {
    throw wrong(`history has ${history?.length ?? 0} entries, not ${before.length + 1}`);
  }
  if (!sameJson(history.slice(0, -1), before)) throw wrong("rewrites earlier history entries");
  const entry = asRecord(history.at(-1));
  if (entry?.action !== action || !sameRef(asRef(entry), ref)) {
    throw wrong(`history does not end with "${action}" of version ${ref.version}`);
  }
  if (!sameActor(entry.actor, context.event)) {
    throw wrong("history names another actor than the trailers");
  }
  if (action === "rejected") {
    const reason = typeof entry.reason === "string" ? flatten(entry.reason) : "";
    if (!reason.startsWith(context.event.reason ?? "\u0000")) {
      throw wrong("history gives another reason than the Reason trailer");
    }
  }
}
