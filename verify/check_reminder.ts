/**
 * The checks of reminders, escalations and supplier invitations: the service
 * reminds a board only of the version that waits on it, at most once per
 * step and level; a board person invites a supplier on their own board's behalf.
 */
import type { EventRecord } from "./event_trailers.ts";
import { readJson } from "./json_values.ts";
import {
  type CheckContext,
  requireBoard,
  requireOrganisation,
  requireRole,
  sameActor,
} from "./replay.ts";

const WAITING_STATE = { review: "offered", signature: "approved" } as const;
const BOARD_ROLES = new Set(["beoordelen", "ondertekenen"]);

/** The file a supplier-invited event adds. */
export function invitationPathOf(event: EventRecord): string {
  return `invitations/${event.board}/${event.invitation}.json`;
}

/**
 * A reminder or escalation by the service, of the current version of an
 * agreement in the state its step waits in, recorded in reminders.json; each
 * level at most once for one step of one version.
 */
export function checkReminder(context: CheckContext): void {
  const { replay, event, fail } = context;
  requireRole(context, "systeem");
  const agreement = event.agreements[0]!;
  const board = requireBoard(context, agreement);
  const current = replay.agreements.get(agreement.key);
  if (current === undefined) throw fail(`agreement ${agreement.key} was never offered`);
  const ref = current.current;
  if (
    agreement.version !== ref.version || event.versionOid !== ref.oid ||
    event.contentSha256 !== ref.contentSha256
  ) {
    throw fail(`it names version ${agreement.version}, not the current version ${ref.version}`);
  }
  const step = event.step!;
  if (current.state !== WAITING_STATE[step]) {
    throw fail(`it reminds of the ${step} of ${agreement.key}, which is ${current.state}`);
  }
  const path = `agreements/${agreement.key}/reminders.json`;
  const record = readJson(context.loaded.files.get(path) ?? null, path, fail);
  const field = event.kind === "reminded" ? "remindedAt" : "escalatedAt";
  if (
    record.board !== agreement.board || record.supplier !== agreement.supplier ||
    record.version !== ref.version || record.step !== step ||
    record.waitingSince !== event.waitingSince || typeof record[field] !== "string"
  ) {
    throw fail(
      `${path} does not record this ${event.kind} of the ${step} of version ${ref.version}`,
    );
  }
  const before = replay.reminders.get(agreement.key);
  const sameStep = before !== undefined && before.step === step &&
    before.version === ref.version && before.waitingSince === event.waitingSince;
  if (sameStep && typeof before[field] === "string") {
    throw fail(
      `the ${step} of version ${ref.version} of ${agreement.key} had its ${event.kind} already`,
    );
  }
  replay.reminders.set(agreement.key, record);
  board.events++;
}

/** An invitation by a reviewer or signatory of the board, recorded in its own new file. */
export function checkInvitation(context: CheckContext): void {
  const { replay, loaded, event, fail } = context;
  const id = event.board!;
  const board = replay.boards.get(id);
  if (board === undefined) throw fail(`board "${id}" is not registered`);
  if (!BOARD_ROLES.has(event.actor.role)) {
    throw fail(`a supplier is invited in role "${event.actor.role}", not with a board mandate`);
  }
  requireOrganisation(context, board.kvk, `board "${id}"`);
  const path = invitationPathOf(event);
  const record = readJson(loaded.files.get(path) ?? null, path, fail);
  if (record.id !== event.invitation || record.board !== id || !sameActor(record.actor, event)) {
    throw fail(`${path} differs from the Board, Invitation and actor trailers`);
  }
  if (typeof record.email !== "string" || typeof record.message !== "string") {
    throw fail(`${path} has no address or message`);
  }
  board.events++;
}
