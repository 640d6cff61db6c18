import { createHash } from "node:crypto";
import type { Decision } from "../store/history.ts";
import { actorRecord, type Principal } from "./actor.ts";
import { DomainError } from "./errors.ts";
import { eventCommit, isoSeconds, jsonFile } from "./event.ts";
import type { BoardId } from "./ids.ts";
import { invitationPath } from "./paths.ts";
import { requireBoardAction } from "./permissions.ts";
import { hasVisibleContent, plainText } from "./plain_text.ts";
import type { Board, Invitation, State } from "./state.ts";

/** The longest supplier name, in characters. */
export const SUPPLIER_NAME_MAX_LENGTH = 200;
/** The longest message, in characters. */
export const MESSAGE_MAX_LENGTH = 4000;
/** The longest mail address (RFC 5321's path limit less its brackets). */
export const MAIL_ADDRESS_MAX_LENGTH = 254;

/** How many invitations a board may send, so that the service is no way to send mass mail. */
export interface InvitationLimits {
  /** Invitations per board per Europe/Amsterdam calendar day. */
  perDay: number;
  /** Days before a board may invite the same address again. */
  sameAddressDays: number;
}

/** The limits when the configuration names none. */
export const DEFAULT_INVITATION_LIMITS: InvitationLimits = { perDay: 10, sameAddressDays: 7 };

/** A board person invites a supplier that is not on Akkoord yet. */
export interface InviteSupplierCommand {
  principal: Principal;
  board: BoardId;
  supplierName: string;
  email: string;
  message: string;
  at: Date;
  /** {@link DEFAULT_INVITATION_LIMITS} when left out. */
  limits?: InvitationLimits;
}

/** Why an invitation would exceed a limit: the address was invited lately, or the day is full. */
export type InvitationLimitReached =
  | { kind: "same_address"; earlier: Invitation; againFrom: string }
  | { kind: "per_day"; perDay: number };

const DAY_MS = 24 * 60 * 60 * 1000;
const AMSTERDAM_DATE = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Amsterdam",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
});

// Any control character, and the Unicode line and paragraph separators: none
// may reach a line of a mail header or a commit subject.
const LINE_BREAKING = /[\p{Cc}\p{Zl}\p{Zp}]/u;
const BODY_FORBIDDEN = /[^\P{Cc}\n\t]/u;
// A plain address: no quoted local part, comments, IP literals or spaces.
const MAIL_ADDRESS =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Whether a name fits on one line: visible, and without control or line-separating characters. */
export function isSingleLine(text: string): boolean {
  return hasVisibleContent(text) && !LINE_BREAKING.test(text);
}

/** Whether the text is a plain mail address of at most {@link MAIL_ADDRESS_MAX_LENGTH} characters. */
export function isMailAddress(text: string): boolean {
  const local = text.split("@")[0] ?? "";
  return text.length <= MAIL_ADDRESS_MAX_LENGTH && local.length <= 64 && MAIL_ADDRESS.test(text);
}

/** Whether a message holds control characters other than line feeds and tabs. */
export function hasControlCharacters(message: string): boolean {
  return BODY_FORBIDDEN.test(message);
}

/** A message as typed in a text area: line breaks as LF, direction controls removed, trimmed. */
export function normaliseMessage(text: string): string {
  return plainText(text).replace(/\r\n?/g, "\n").trim();
}

/** The ready-made Dutch message a board person starts from; the mail adds the greeting. */
export function defaultInvitationMessage(board: Board, senderName: string): string {
  return [
    `${board.name} sluit verwerkersovereenkomsten af via Akkoord. Daarin biedt een leverancier zijn verwerkersovereenkomst en de privacybijsluiters van zijn producten aan, en beoordelen en ondertekenen wij die met eHerkenning. Zo weten beide partijen precies welke versie geldt.`,
    "Wilt u uw verwerkersovereenkomst voortaan via Akkoord aan ons aanbieden in plaats van per e-mail of op papier? U logt in met eHerkenning namens uw organisatie; aanmelden kost niets.",
    `Met vriendelijke groet,\n${senderName}\n${board.name}`,
  ].join("\n\n");
}

/**
 * Records a board's invitation to a supplier as an event commit; the outbox
 * mails it to the supplier's address. Submitting the same invitation twice in
 * one second records it once. The limits are counted from the invitations in
 * the history, so they hold across restarts and processes; exceeding one
 * throws `limit_reached`.
 */
export function inviteSupplier(
  state: State,
  command: InviteSupplierCommand,
): Decision<Invitation> {
  const board = requireBoardAction(state, command.principal, command.board, "supplier.invite");
  const fields = checkedFields(command);
  requireNewSupplier(state, fields.email);
  const at = isoSeconds(command.at);
  const id = invitationId(board.id, fields.email, at, command.principal.subject);
  const existing = state.invitations.get(`${board.id}/${id}`);
  if (existing !== undefined) return { commit: null, result: existing };
  requireWithinLimits(state, board, fields.email, command);
  // The table allowed it, so the person holds one of the two board mandates.
  const mandate = command.principal.mandates.includes("beoordelen") ? "beoordelen" : "ondertekenen";
  const actor = actorRecord(command.principal, mandate);
  const invitation: Invitation = { id, board: board.id, ...fields, at, actor };
  return {
    commit: eventCommit({
      kind: "supplier-invited",
      subject: `Invite supplier "${fields.supplierName}" for ${board.name}`,
      trailers: [["Board", board.id], ["Invitation", id]],
      actor,
      at: command.at,
      files: new Map([[invitationPath(board.id, id), jsonFile(invitation)]]),
    }),
    result: invitation,
  };
}

function checkedFields(
  command: InviteSupplierCommand,
): Pick<Invitation, "supplierName" | "email" | "message"> {
  const supplierName = plainText(command.supplierName).trim();
  const email = command.email.trim();
  const message = normaliseMessage(command.message);
  if (!isSingleLine(supplierName) || supplierName.length > SUPPLIER_NAME_MAX_LENGTH) {
    throw new DomainError(
      "invalid_input",
      `Cannot invite supplier ${
        JSON.stringify(supplierName.slice(0, 40))
      }: a name is 1 to ${SUPPLIER_NAME_MAX_LENGTH} characters on one line`,
    );
  }
  if (!isMailAddress(email)) {
    throw new DomainError(
      "invalid_input",
      `Cannot invite supplier "${supplierName}": ${
        JSON.stringify(email.slice(0, 60))
      } is not a mail address`,
    );
  }
  if (!hasVisibleContent(message) || message.length > MESSAGE_MAX_LENGTH) {
    throw new DomainError(
      "invalid_input",
      `Cannot invite supplier "${supplierName}": a message has 1 to ${MESSAGE_MAX_LENGTH} characters`,
    );
  }
  if (hasControlCharacters(message)) {
    throw new DomainError(
      "invalid_input",
      `Cannot invite supplier "${supplierName}": the message holds control characters`,
    );
  }
  return { supplierName, email, message };
}

/**
 * Whether one more invitation from `board` to `email` at `at` would exceed a
 * limit: the same address within `sameAddressDays` days (by the clock), or
 * `perDay` invitations of the board on the same Europe/Amsterdam day. Null
 * when it would not.
 */
export function invitationLimitReached(
  state: State,
  invitation: { board: BoardId; email: string; at: Date },
  limits: InvitationLimits = DEFAULT_INVITATION_LIMITS,
): InvitationLimitReached | null {
  const sent = [...state.invitations.values()].filter((item) => item.board === invitation.board);
  const address = invitation.email.toLowerCase();
  const since = invitation.at.getTime() - limits.sameAddressDays * DAY_MS;
  const earlier = sent
    .filter((item) => item.email.toLowerCase() === address && Date.parse(item.at) > since)
    .sort((a, b) => b.at.localeCompare(a.at))[0];
  if (earlier !== undefined) {
    const againFrom = isoSeconds(
      new Date(Date.parse(earlier.at) + limits.sameAddressDays * DAY_MS),
    );
    return { kind: "same_address", earlier, againFrom };
  }
  const today = amsterdamDate(invitation.at);
  const sentToday = sent.filter((item) => amsterdamDate(new Date(item.at)) === today).length;
  return sentToday >= limits.perDay ? { kind: "per_day", perDay: limits.perDay } : null;
}

function requireWithinLimits(
  state: State,
  board: Board,
  email: string,
  command: InviteSupplierCommand,
): void {
  const reached = invitationLimitReached(
    state,
    { board: board.id, email, at: command.at },
    command.limits,
  );
  if (reached?.kind === "same_address") {
    throw new DomainError(
      "limit_reached",
      `Cannot invite "${email}" for ${board.name}: the board invited this address at ${reached.earlier.at}; it may again from ${reached.againFrom}`,
    );
  }
  if (reached?.kind === "per_day") {
    throw new DomainError(
      "limit_reached",
      `Cannot invite "${email}" for ${board.name}: the board sent ${reached.perDay} invitations today (Europe/Amsterdam), the most per day`,
    );
  }
}

function amsterdamDate(at: Date): string {
  return AMSTERDAM_DATE.format(at);
}

function requireNewSupplier(state: State, email: string): void {
  const lower = email.toLowerCase();
  for (const supplier of state.suppliers.values()) {
    if (supplier.contactEmail.toLowerCase() === lower) {
      throw new DomainError(
        "duplicate",
        `Cannot invite "${email}": it is the address of supplier "${supplier.id}", already on Akkoord`,
      );
    }
  }
}

function invitationId(board: BoardId, email: string, at: string, subject: string): string {
  const text = [board, email.toLowerCase(), at, subject].join("\n");
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
