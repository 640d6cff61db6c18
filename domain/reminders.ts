import type { CommitRequest, Decision } from "../store/history.ts";
import { type Mandate, SYSTEM_ACTOR } from "./actor.ts";
import { DomainError } from "./errors.ts";
import { eventCommit, isoSeconds, jsonFile } from "./event.ts";
import { agreementKey, type BoardId, type SupplierId } from "./ids.ts";
import { remindersPath } from "./paths.ts";
import type { AgreementStatus, ReminderRecord, State, WaitingStep } from "./state.ts";

/** After how many days of waiting a board is reminded, and when it is escalated. */
export interface ReminderPolicy {
  reminderDays: number;
  escalationDays: number;
}

/** What is sent when a step has waited long enough. */
export type ReminderLevel = "reminder" | "escalation";

/** The step an agreement waits on at a board, and since when. */
export interface Waiting {
  board: BoardId;
  supplier: SupplierId;
  step: WaitingStep;
  version: number;
  /** ISO timestamp of the offer (review) or of the approval (signature). */
  since: string;
}

/** A reminder or escalation that is due for one agreement. */
export interface DueReminder {
  board: BoardId;
  supplier: SupplierId;
  level: ReminderLevel;
}

/** What a board was sent about the step its agreement waits on. */
export interface ReminderFacts {
  waiting: Waiting;
  remindedAt?: string;
  escalatedAt?: string;
}

/** The mandate a board person needs for the step. */
export const STEP_MANDATE: Record<WaitingStep, Mandate> = {
  review: "beoordelen",
  signature: "ondertekenen",
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The step an agreement waits on at its board: the review of an offered
 * version since its offer, or the signature of an approved version since the
 * approval. Null when it waits on nobody at the board.
 */
export function waitingOnBoard(status: AgreementStatus): Waiting | null {
  const { board, supplier, current } = status;
  if (status.state === "offered") {
    return { board, supplier, step: "review", version: current.version, since: current.offeredAt };
  }
  if (status.state !== "approved") return null;
  const approval = status.history.findLast((entry) =>
    entry.action === "approved" && entry.version === current.version
  );
  const since = approval?.at ?? current.offeredAt;
  return { board, supplier, step: "signature", version: current.version, since };
}

/** The step an agreement waits on and what was sent about it, or null when it waits on nobody. */
export function reminderFacts(state: State, status: AgreementStatus): ReminderFacts | null {
  const waiting = waitingOnBoard(status);
  if (waiting === null) return null;
  const record = state.reminders.get(agreementKey(status.board, status.supplier));
  if (record === undefined || !sameStep(record, waiting)) return { waiting };
  return {
    waiting,
    ...(record.remindedAt ? { remindedAt: record.remindedAt } : {}),
    ...(record.escalatedAt ? { escalatedAt: record.escalatedAt } : {}),
  };
}

/** Whole days an agreement has waited at `at`. */
export function daysWaiting(waiting: Waiting, at: Date): number {
  return Math.max(0, Math.floor((at.getTime() - Date.parse(waiting.since)) / DAY_MS));
}

/**
 * The reminder or escalation due for each waiting agreement at `at`: an
 * escalation once the step has waited `escalationDays` and was not escalated,
 * else a reminder once it has waited `reminderDays` and nothing was sent.
 */
export function dueReminders(state: State, at: Date, policy: ReminderPolicy): DueReminder[] {
  const due: DueReminder[] = [];
  for (const status of state.agreements.values()) {
    const level = dueLevel(state, status, at, policy);
    if (level !== null) due.push({ board: status.board, supplier: status.supplier, level });
  }
  return due;
}

/**
 * Records a due reminder or escalation of one agreement as an event commit.
 * It decides again against the state it is given, so a second scheduler, or
 * a retry, finds it sent and commits nothing.
 */
export function remindBoard(
  state: State,
  command: { board: BoardId; supplier: SupplierId; at: Date; policy: ReminderPolicy },
): Decision<ReminderRecord | null> {
  const key = agreementKey(command.board, command.supplier);
  const status = state.agreements.get(key);
  if (status === undefined) {
    throw new DomainError("not_found", `Cannot remind about agreement "${key}": it does not exist`);
  }
  const level = dueLevel(state, status, command.at, command.policy);
  const waiting = waitingOnBoard(status);
  if (level === null || waiting === null) return { commit: null, result: null };
  const previous = state.reminders.get(key);
  const at = isoSeconds(command.at);
  const next: ReminderRecord = {
    board: status.board,
    supplier: status.supplier,
    version: waiting.version,
    step: waiting.step,
    waitingSince: waiting.since,
    ...(previous && sameStep(previous, waiting) && previous.remindedAt
      ? { remindedAt: previous.remindedAt }
      : {}),
    ...(level === "reminder" ? { remindedAt: at } : { escalatedAt: at }),
  };
  return { commit: reminderCommit(state, status, next, level, command.at), result: next };
}

function dueLevel(
  state: State,
  status: AgreementStatus,
  at: Date,
  policy: ReminderPolicy,
): ReminderLevel | null {
  const facts = reminderFacts(state, status);
  if (facts === null || facts.escalatedAt !== undefined) return null;
  const waited = at.getTime() - Date.parse(facts.waiting.since);
  if (waited >= policy.escalationDays * DAY_MS) return "escalation";
  if (waited >= policy.reminderDays * DAY_MS && facts.remindedAt === undefined) return "reminder";
  return null;
}

function reminderCommit(
  state: State,
  status: AgreementStatus,
  record: ReminderRecord,
  level: ReminderLevel,
  at: Date,
): CommitRequest {
  const supplierName = state.suppliers.get(status.supplier)?.name ?? status.supplier;
  const boardName = state.boards.get(status.board)?.name ?? status.board;
  const what = record.step === "review" ? "review" : "signature";
  const verb = level === "reminder" ? "Remind" : "Escalate to";
  return eventCommit({
    kind: level === "reminder" ? "reminded" : "escalated",
    subject: `${verb} ${boardName}: version ${record.version} of ${supplierName} waits for ${what}`,
    trailers: [
      ["Agreement", `${agreementKey(status.board, status.supplier)} version ${record.version}`],
      ["Version-Oid", status.current.oid],
      ["Content-SHA256", status.current.contentSha256],
      ["Step", record.step],
      ["Waiting-Since", record.waitingSince],
    ],
    actor: SYSTEM_ACTOR,
    at,
    files: new Map([[remindersPath(status.board, status.supplier), jsonFile(record)]]),
  });
}

function sameStep(record: ReminderRecord, waiting: Waiting): boolean {
  return record.step === waiting.step && record.version === waiting.version &&
    record.waitingSince === waiting.since;
}
