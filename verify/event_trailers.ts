/**
 * The event a commit records, read from its trailers (see "Commits" in the
 * project README): `Event`, the event's own trailers, then `Actor`, `Role`,
 * `Organisation` and `Assurance`.
 */

/** Every event the history may hold. */
export const EVENT_KINDS = [
  "board-registered",
  "supplier-registered",
  "terms-accepted",
  "offered",
  "approved",
  "rejected",
  "signed",
  "withdrawn",
  "readme-updated",
  "key-rotated",
  "api-key-registered",
  "api-key-revoked",
  "reminded",
  "escalated",
  "supplier-invited",
] as const;

export type EventKind = typeof EVENT_KINDS[number];

/** The roles an actor may have acted in. */
export const ROLES = ["beoordelen", "ondertekenen", "leverancier", "beheer", "systeem"] as const;

/** One `Agreement: <board>/<supplier> version <n>` trailer. */
export interface AgreementRef {
  board: string;
  supplier: string;
  version: number;
  /** `board/supplier`. */
  key: string;
}

/** One `Api-Key: <supplier>/<thumbprint>` trailer. */
export interface ApiKeyRef {
  supplier: string;
  thumbprint: string;
  /** `supplier/thumbprint`. */
  key: string;
}

/** Who acted, as the trailers say. */
export interface ActorTrailers {
  subject: string;
  role: typeof ROLES[number];
  organisation: string;
  assurance: string;
}

/** A commit's event, with every trailer the checks use. */
export interface EventRecord {
  kind: EventKind;
  agreements: AgreementRef[];
  versionOid: string | null;
  contentSha256: string | null;
  reason: string | null;
  /** `Board` of a terms-accepted event. */
  board: string | null;
  termsVersion: string | null;
  /** `Api-Key` of an api-key-registered or api-key-revoked event. */
  apiKey: ApiKeyRef | null;
  /** `Step` and `Waiting-Since` of a reminded or escalated event. */
  step: "review" | "signature" | null;
  waitingSince: string | null;
  /** `Invitation` of a supplier-invited event. */
  invitation: string | null;
  actor: ActorTrailers;
}

const AGREEMENT = /^(\d{5})\/(\d{8}) version ([1-9]\d{0,8})$/;
const OID = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const KVK = /^\d{8}$/;
const BOARD = /^\d{5}$/;
const API_KEY = /^(\d{8})\/([A-Za-z0-9_-]{43})$/;
const API_KEY_EVENTS = new Set<EventKind>(["api-key-registered", "api-key-revoked"]);
const DECISIONS = new Set<EventKind>(["approved", "rejected", "signed", "withdrawn"]);
/** Events that remind a board of the version it has to act on. */
export const REMINDER_EVENTS: ReadonlySet<string> = new Set<EventKind>(["reminded", "escalated"]);
const INVITATION = /^[0-9a-f]{16}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The value of the `Event` trailer, or `(none)`, for messages. */
export function eventName(trailers: Array<[string, string]>): string {
  return trailers.find(([key]) => key === "Event")?.[1] ?? "(none)";
}

/** Reads the event of a commit's trailers; throws saying which trailer is missing or malformed. */
export function parseEvent(trailers: Array<[string, string]>): EventRecord {
  const all = (key: string) => trailers.filter(([name]) => name === key).map(([, value]) => value);
  const one = (key: string): string => {
    const values = all(key);
    if (values.length !== 1) throw new Error(`it has ${values.length} "${key}" trailers, not 1`);
    return values[0]!;
  };
  const optional = (key: string): string | null => (all(key).length === 0 ? null : one(key));

  const kind = one("Event");
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`its event "${kind}" is not one of ${EVENT_KINDS.join(", ")}`);
  }
  const event: EventRecord = {
    kind: kind as EventKind,
    agreements: all("Agreement").map(parseAgreement),
    versionOid: optional("Version-Oid"),
    contentSha256: optional("Content-SHA256"),
    reason: optional("Reason"),
    board: optional("Board"),
    termsVersion: optional("Terms-Version"),
    apiKey: parseApiKey(optional("Api-Key")),
    step: parseStep(optional("Step")),
    waitingSince: optional("Waiting-Since"),
    invitation: optional("Invitation"),
    actor: parseActor(one),
  };
  checkShape(event);
  return event;
}

function parseAgreement(value: string): AgreementRef {
  const match = AGREEMENT.exec(value);
  if (match === null) {
    throw new Error(`its Agreement trailer "${value}" is not "BBBBB/KKKKKKKK version N"`);
  }
  const [, board, supplier, version] = match as unknown as [string, string, string, string];
  return { board, supplier, version: Number(version), key: `${board}/${supplier}` };
}

function parseApiKey(value: string | null): ApiKeyRef | null {
  if (value === null) return null;
  const match = API_KEY.exec(value);
  if (match === null) {
    throw new Error(`its Api-Key trailer "${value}" is not "KKKKKKKK/<43-character thumbprint>"`);
  }
  return { supplier: match[1]!, thumbprint: match[2]!, key: value };
}

function parseStep(value: string | null): EventRecord["step"] {
  if (value === null || value === "review" || value === "signature") return value;
  throw new Error(`its Step "${value}" is not review or signature`);
}

function parseActor(one: (key: string) => string): ActorTrailers {
  const subject = one("Actor");
  const role = one("Role");
  const organisation = one("Organisation");
  const assurance = one("Assurance");
  if (subject === "" || assurance === "") throw new Error("its Actor or Assurance is empty");
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new Error(`its Role "${role}" is not one of ${ROLES.join(", ")}`);
  }
  if (!KVK.test(organisation)) {
    throw new Error(`its Organisation "${organisation}" is not a KvK number of 8 digits`);
  }
  return { subject, role: role as ActorTrailers["role"], organisation, assurance };
}

function checkShape(event: EventRecord): void {
  const single = DECISIONS.has(event.kind) || REMINDER_EVENTS.has(event.kind);
  const versioned = event.kind === "offered" || single;
  if (versioned) {
    if (event.agreements.length === 0) throw new Error("it has no Agreement trailer");
    if (single && event.agreements.length !== 1) {
      throw new Error(`it has ${event.agreements.length} Agreement trailers, not 1`);
    }
    const keys = new Set(event.agreements.map((agreement) => agreement.key));
    if (keys.size !== event.agreements.length) throw new Error("it names an agreement twice");
    if (event.versionOid === null || !OID.test(event.versionOid)) {
      throw new Error(`its Version-Oid "${event.versionOid ?? ""}" is not 40 hex digits`);
    }
    if (event.contentSha256 === null || !SHA256.test(event.contentSha256)) {
      throw new Error(`its Content-SHA256 "${event.contentSha256 ?? ""}" is not 64 hex digits`);
    }
  } else if (event.agreements.length > 0 || event.versionOid !== null) {
    throw new Error(`a ${event.kind} event names no agreement or version`);
  }
  if (event.kind === "rejected" && (event.reason ?? "") === "") {
    throw new Error("a rejection has no Reason");
  }
  if (API_KEY_EVENTS.has(event.kind) !== (event.apiKey !== null)) {
    throw new Error(`a ${event.kind} event ${event.apiKey ? "names no" : "needs an"} Api-Key`);
  }
  if (REMINDER_EVENTS.has(event.kind) !== (event.step !== null)) {
    throw new Error(`a ${event.kind} event ${event.step ? "names no" : "needs a"} Step`);
  }
  if (event.step !== null && !ISO_SECONDS.test(event.waitingSince ?? "")) {
    throw new Error(`its Waiting-Since "${event.waitingSince ?? ""}" is not a UTC time in seconds`);
  }
  if (event.kind === "supplier-invited") {
    if (event.board === null || !BOARD.test(event.board)) {
      throw new Error(`its Board "${event.board ?? ""}" is not a board id of 5 digits`);
    }
    if (!INVITATION.test(event.invitation ?? "")) {
      throw new Error(`its Invitation "${event.invitation ?? ""}" is not 16 hex digits`);
    }
  }
  if (event.kind === "terms-accepted") {
    if (event.board === null || !BOARD.test(event.board)) {
      throw new Error(`its Board "${event.board ?? ""}" is not a board id of 5 digits`);
    }
    if ((event.termsVersion ?? "") === "") throw new Error("it has no Terms-Version");
  }
}
