/**
 * What the checks remember from the commits before: boards, suppliers and
 * agreements replayed from the events, and the violation they raise.
 */
import type { AllowedSigner } from "./allowed_signers.ts";
import type { CommitObject } from "./commit_object.ts";
import {
  type AgreementRef,
  type EventKind,
  eventName,
  type EventRecord,
} from "./event_trailers.ts";
import { asRecord, flatten, type VersionRef } from "./json_values.ts";
import type { LoadedCommit } from "./loaded_commit.ts";

/** A rule the history breaks, at one commit. */
export class Violation extends Error {
  /** The oid of the commit that breaks it. */
  readonly commit: string;
  /** The commit's `Event` trailer. */
  readonly event: string;

  constructor(commit: CommitObject, position: number, what: string) {
    const event = eventName(commit.trailers);
    super(
      `Commit ${commit.oid} (number ${position}, event ${event}, "${commit.subject}"): ${what}`,
    );
    this.name = "Violation";
    this.commit = commit.oid;
    this.event = event;
  }
}

/** The state of one agreement, replayed from the events. */
export interface AgreementReplay {
  board: string;
  supplier: string;
  state: "offered" | "approved" | "rejected" | "signed" | "withdrawn";
  current: VersionRef;
  inForce: VersionRef | null;
  /** status.json as the last event left it. */
  status: Record<string, unknown>;
}

/** A board, replayed from its file and its events. */
export interface BoardReplay {
  id: string;
  name: string;
  kvk: string;
  /** boards/<id>.json as last written. */
  record: Record<string, unknown>;
  /** A terms-accepted event was seen for this board. */
  termsAccepted: boolean;
  /** Events that concern this board. */
  events: number;
}

/** A supplier's API key, replayed from its file and its events. */
export interface ApiKeyReplay {
  /** suppliers/<supplier>/api_keys/<thumbprint>.json as last written. */
  record: Record<string, unknown>;
  revoked: boolean;
}

/** Everything the checks remember from the commits before. */
export interface Replay {
  /** The principal the service signs as. */
  principal: string;
  /** How many commits were checked. */
  position: number;
  head: string | null;
  boards: Map<string, BoardReplay>;
  /** Supplier id to name. */
  suppliers: Map<string, string>;
  agreements: Map<string, AgreementReplay>;
  /** Suppliers' API keys, keyed `supplier/thumbprint`. */
  apiKeys: Map<string, ApiKeyReplay>;
  /** reminders.json of each agreement as last written, keyed `board/supplier`. */
  reminders: Map<string, Record<string, unknown>>;
  /** keys/allowed_signers in the tree at the last commit. */
  signers: AllowedSigner[] | null;
  /** Fingerprints of the keys that signed. */
  keys: Set<string>;
  events: Map<EventKind, number>;
}

/** The key a commit's signature was made with, already verified. */
export interface SigningKey {
  keyBlob: Uint8Array;
  fingerprint: string;
}

/** One commit under check, with the replay before it. */
export interface CheckContext {
  replay: Replay;
  loaded: LoadedCommit;
  event: EventRecord;
  /** keys/allowed_signers of the tree before this commit. */
  signersBefore: AllowedSigner[];
  fail: (what: string) => Violation;
}

/** The replay before the first commit. */
export function emptyReplay(principal: string): Replay {
  return {
    principal,
    position: 0,
    head: null,
    boards: new Map(),
    suppliers: new Map(),
    agreements: new Map(),
    apiKeys: new Map(),
    reminders: new Map(),
    signers: null,
    keys: new Set(),
    events: new Map(),
  };
}

export function requireBoard(context: CheckContext, agreement: AgreementRef): BoardReplay {
  const board = context.replay.boards.get(agreement.board);
  if (board === undefined) throw context.fail(`board "${agreement.board}" is not registered`);
  return board;
}

/** Fails unless the event's actor acted in `role` (or in one of several). */
export function requireRole(context: CheckContext, role: string | string[]): void {
  const roles = typeof role === "string" ? [role] : role;
  if (!roles.includes(context.event.actor.role)) {
    const wanted = roles.map((name) => `"${name}"`).join(" or ");
    throw context.fail(
      `a ${context.event.kind} event needs role ${wanted}, not "${context.event.actor.role}"`,
    );
  }
}

export function requireOrganisation(context: CheckContext, kvk: string, what: string): void {
  const { organisation } = context.event.actor;
  if (organisation !== kvk) {
    throw context.fail(
      `the actor acted for organisation ${organisation}, not for ${what} (${kvk})`,
    );
  }
}

/** Whether an actor record of a file names the actor of the trailers. */
export function sameActor(actor: unknown, event: EventRecord): boolean {
  const record = asRecord(actor);
  return record !== null &&
    flatten(String(record.subject)) === event.actor.subject &&
    record.role === event.actor.role &&
    record.organisation === event.actor.organisation;
}
