import type { ActorRecord } from "./actor.ts";
import type { ApiKeyAlgorithm, PublicJwk } from "./api_key_jwk.ts";
import type { BoardId, KvkNumber, Oid, ProductId, Sha256, SupplierId } from "./ids.ts";

/** A school board as registered in the history (boards/<id>.json). */
export interface Board {
  id: BoardId;
  kvk: KvkNumber;
  name: string;
  /** DUO sectors, for example "bo" or "bo+vo". */
  sector: string;
  contactEmail: string;
  /** The board accepted the terms of use; it cannot act before. */
  termsAccepted?: { version: string; at: string; actor: ActorRecord };
}

/** A supplier as registered in the history (suppliers/<id>.json). */
export interface Supplier {
  id: SupplierId;
  name: string;
  contactEmail: string;
}

/**
 * A public key a supplier registered for the API's client assertions
 * (suppliers/<supplier>/api_keys/<thumbprint>.json). A revoked key stays, marked.
 */
export interface ApiKey {
  supplier: SupplierId;
  /** The RFC 7638 thumbprint of `jwk`; also the `kid` assertions name it by. */
  thumbprint: string;
  label: string;
  algorithms: ApiKeyAlgorithm[];
  jwk: PublicJwk;
  registered: { at: string; actor: ActorRecord };
  revoked?: { at: string; actor: ActorRecord };
}

export type AgreementState = "offered" | "approved" | "rejected" | "signed" | "withdrawn";

/** Names one version's exact content. */
export interface VersionRef {
  version: number;
  /** The Git tree oid of the version's directory (agreement.md and products/). */
  oid: Oid;
  /** SHA-256 over the version's manifest (see domain/content.ts). */
  contentSha256: Sha256;
}

export type HistoryAction = "offered" | "approved" | "rejected" | "signed" | "withdrawn";

/** One line of an agreement's story, as kept in status.json. */
export interface HistoryEntry extends VersionRef {
  action: HistoryAction;
  at: string;
  actor: ActorRecord;
  reason?: string;
}

/** The status of one agreement (agreements/<board>/<supplier>/status.json). */
export interface AgreementStatus {
  board: BoardId;
  supplier: SupplierId;
  state: AgreementState;
  /** The newest version offered, with its products. */
  current: VersionRef & { offeredAt: string; products: ProductId[]; title: string };
  /** The signed version in force, which may be older than current. */
  inForce?: VersionRef & { signedAt: string };
  history: HistoryEntry[];
}

/** The step of an agreement that waits on a board: its review, or the signature of the approved version. */
export type WaitingStep = "review" | "signature";

/**
 * The reminder and escalation sent for the step an agreement waits on
 * (agreements/<board>/<supplier>/reminders.json). A record for an earlier
 * step or version no longer applies.
 */
export interface ReminderRecord {
  board: BoardId;
  supplier: SupplierId;
  version: number;
  step: WaitingStep;
  /** When the step began: the offer or the approval. */
  waitingSince: string;
  remindedAt?: string;
  escalatedAt?: string;
}

/**
 * A board's invitation to a supplier that is not on Akkoord yet
 * (invitations/<board>/<id>.json), as mailed to the supplier.
 */
export interface Invitation {
  id: string;
  board: BoardId;
  supplierName: string;
  email: string;
  message: string;
  at: string;
  actor: ActorRecord;
}

/** The complete state at one commit, derived from the history alone. */
export interface State {
  head: Oid | null;
  boards: Map<BoardId, Board>;
  suppliers: Map<SupplierId, Supplier>;
  /** Keyed by "board/supplier". */
  agreements: Map<string, AgreementStatus>;
  /** Suppliers' API keys, revoked ones included, keyed by "supplier/thumbprint". */
  apiKeys: Map<string, ApiKey>;
  /** Reminders of agreements that wait on a board, keyed by "board/supplier". */
  reminders: Map<string, ReminderRecord>;
  /** Boards' invitations to suppliers, keyed by "board/id". */
  invitations: Map<string, Invitation>;
}

/** An empty state, before the first commit. */
export function emptyState(): State {
  return {
    head: null,
    boards: new Map(),
    suppliers: new Map(),
    agreements: new Map(),
    apiKeys: new Map(),
    reminders: new Map(),
    invitations: new Map(),
  };
}
