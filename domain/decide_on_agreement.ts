import type { Decision } from "../store/history.ts";
import { type ActorRecord, actorRecord, type Principal } from "./actor.ts";
import { DomainError } from "./errors.ts";
import { eventCommit, isoSeconds, jsonFile } from "./event.ts";
import { agreementKey, type BoardId, type SupplierId } from "./ids.ts";
import { oneLine } from "./offer_agreement.ts";
import { statusPath } from "./paths.ts";
import { requireBoardAction, requireSupplierAction } from "./permissions.ts";
import { hasVisibleContent, plainText } from "./plain_text.ts";
import type { AgreementStatus, HistoryAction, State, VersionRef } from "./state.ts";

/** A board's or supplier's decision on one agreement, naming the exact version. */
export interface AgreementCommand {
  principal: Principal;
  board: BoardId;
  supplier: SupplierId;
  /** The version the person was shown: number, tree oid and content hash. */
  shown: VersionRef;
  at: Date;
}

/** The longest reason for a rejection, in characters. */
export const REASON_MAX_LENGTH = 2000;

/** A reviewer approves the version that waits for review. */
export function approveAgreement(
  state: State,
  command: AgreementCommand,
): Decision<AgreementStatus> {
  requireBoardAction(state, command.principal, command.board, "agreement.approve");
  const status = requireAgreement(state, command);
  requireShownIsCurrent(status, command.shown);
  if (status.state !== "offered") {
    throw new DomainError(
      "invalid_transition",
      `Cannot approve agreement "${key(command)}": it is ${status.state}, not waiting for review`,
    );
  }
  return decide(state, command, status, "approved", actorRecord(command.principal, "beoordelen"));
}

/** A reviewer rejects the version that waits for review, with a reason. */
export function rejectAgreement(
  state: State,
  command: AgreementCommand & { reason: string },
): Decision<AgreementStatus> {
  requireBoardAction(state, command.principal, command.board, "agreement.reject");
  // Browsers post a textarea's line breaks as CRLF but count them as one character.
  const reason = plainText(command.reason).replace(/\r\n?/g, "\n").trim();
  if (!hasVisibleContent(reason)) {
    throw new DomainError(
      "reason_required",
      `Rejecting agreement "${key(command)}" needs a reason`,
    );
  }
  if (reason.length > REASON_MAX_LENGTH) {
    throw new DomainError("invalid_input", `A reason has at most ${REASON_MAX_LENGTH} characters`);
  }
  const status = requireAgreement(state, command);
  requireShownIsCurrent(status, command.shown);
  if (status.state !== "offered" && status.state !== "approved") {
    throw new DomainError(
      "invalid_transition",
      `Cannot reject agreement "${key(command)}": it is ${status.state}`,
    );
  }
  const actor = actorRecord(command.principal, "beoordelen");
  return decide(state, command, status, "rejected", actor, reason);
}

/**
 * A signatory signs exactly the version that was approved. Refused when it
 * was not approved, when a newer version superseded it, or when the content
 * shown differs from the content approved.
 */
export function signAgreement(state: State, command: AgreementCommand): Decision<AgreementStatus> {
  requireBoardAction(state, command.principal, command.board, "agreement.sign");
  const status = requireAgreement(state, command);
  requireShownIsCurrent(status, command.shown);
  if (status.state === "signed") {
    throw new DomainError(
      "invalid_transition",
      `Cannot sign agreement "${
        key(command)
      }": version ${status.current.version} is signed already`,
    );
  }
  if (status.state !== "approved") {
    throw new DomainError(
      "not_approved",
      `Cannot sign agreement "${key(command)}": version ${status.current.version} was not approved`,
    );
  }
  return decide(state, command, status, "signed", actorRecord(command.principal, "ondertekenen"));
}

/** The supplier withdraws a version that was not signed. */
export function withdrawAgreement(
  state: State,
  command: AgreementCommand,
): Decision<AgreementStatus> {
  requireSupplierAction(command.principal, command.supplier, "agreement.withdraw");
  const status = requireAgreement(state, command);
  requireShownIsCurrent(status, command.shown);
  if (status.state !== "offered" && status.state !== "approved") {
    throw new DomainError(
      "invalid_transition",
      `Cannot withdraw agreement "${key(command)}": it is ${status.state}`,
    );
  }
  return decide(state, command, status, "withdrawn", actorRecord(command.principal, "leverancier"));
}

function decide(
  state: State,
  command: AgreementCommand,
  status: AgreementStatus,
  action: HistoryAction & AgreementStatus["state"],
  actor: ActorRecord,
  reason?: string,
): Decision<AgreementStatus> {
  const at = isoSeconds(command.at);
  const ref: VersionRef = {
    version: status.current.version,
    oid: status.current.oid,
    contentSha256: status.current.contentSha256,
  };
  const next: AgreementStatus = {
    ...status,
    state: action,
    ...(action === "signed" ? { inForce: { ...ref, signedAt: at } } : {}),
    history: [...status.history, { action, ...ref, at, actor, ...(reason ? { reason } : {}) }],
  };
  const supplierName = state.suppliers.get(command.supplier)?.name ?? command.supplier;
  const boardName = state.boards.get(command.board)?.name ?? command.board;
  const trailers: Array<[string, string]> = [
    ["Agreement", `${key(command)} version ${ref.version}`],
    ["Version-Oid", ref.oid],
    ["Content-SHA256", ref.contentSha256],
    ...(reason ? [["Reason", oneLine(reason)] as [string, string]] : []),
  ];
  return {
    commit: eventCommit({
      kind: action,
      subject: `${capitalise(action)} version ${ref.version} of ${supplierName} for ${boardName}`,
      trailers,
      actor,
      at: command.at,
      files: new Map([[statusPath(command.board, command.supplier), jsonFile(next)]]),
    }),
    result: next,
  };
}

function requireAgreement(state: State, command: AgreementCommand): AgreementStatus {
  const status = state.agreements.get(key(command));
  if (!status) {
    throw new DomainError("not_found", `Agreement "${key(command)}" does not exist`);
  }
  return status;
}

function requireShownIsCurrent(status: AgreementStatus, shown: VersionRef): void {
  const current = status.current;
  if (shown.version !== current.version) {
    throw new DomainError(
      "version_superseded",
      `Version ${shown.version} of agreement "${status.board}/${status.supplier}" was superseded by version ${current.version}`,
    );
  }
  if (shown.oid !== current.oid || shown.contentSha256 !== current.contentSha256) {
    throw new DomainError(
      "content_mismatch",
      `The content shown differs from version ${current.version} of agreement "${status.board}/${status.supplier}"`,
    );
  }
}

function key(command: { board: BoardId; supplier: SupplierId }): string {
  return agreementKey(command.board, command.supplier);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
