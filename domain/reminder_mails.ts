import type { CommitInfo } from "../store/history.ts";
import type { Mandate } from "./actor.ts";
import type { BoardId } from "./ids.ts";
import { headerText, type Mail, type MailContent, mailText, oneLine } from "./mail.ts";
import { STEP_MANDATE } from "./reminders.ts";
import type { Board, State, Supplier, WaitingStep } from "./state.ts";

/**
 * The notification addresses that the people of a board holding `mandate`
 * registered for themselves; they are kept outside the history.
 */
export type MandateHolders = (board: BoardId, mandate: Mandate) => string[];

/** What {@link reminderMails} needs besides the commit and the state. */
export interface ReminderMailOptions {
  /** Where the service's pages are, for links in the mail. */
  baseUrl: string;
  holders: MandateHolders;
}

/** The events whose mails {@link reminderMails} writes. */
export const REMINDER_MAIL_EVENTS: ReadonlySet<string> = new Set([
  "reminded",
  "escalated",
  "supplier-invited",
]);

const AGREEMENT_TRAILER = /^(\d{5})\/(\d{8}) version (\d+)$/;
const DAY_MS = 24 * 60 * 60 * 1000;
const STEP_NOUN: Record<WaitingStep, string> = {
  review: "beoordeling",
  signature: "ondertekening",
};

/**
 * The mails of a reminder, an escalation or a supplier invitation: a reminder
 * goes to the board's contact address; an escalation to that address and to
 * every registered address of a board person holding the mandate the step
 * needs; an invitation to the invited supplier's address.
 */
export function reminderMails(
  commit: CommitInfo,
  state: State,
  options: ReminderMailOptions,
): Mail[] {
  const event = trailer(commit, "Event");
  if (event === "supplier-invited") return invitationMails(commit, state, options.baseUrl);
  const match = AGREEMENT_TRAILER.exec(trailer(commit, "Agreement") ?? "");
  const step = trailer(commit, "Step");
  if (match === null || (step !== "review" && step !== "signature")) return [];
  const [, boardId, supplierId, version] = match as unknown as [string, string, string, string];
  const board = state.boards.get(boardId);
  const supplier = state.suppliers.get(supplierId);
  if (board === undefined || supplier === undefined) return [];
  const facts: AgreementFacts = {
    board,
    supplier,
    version,
    step,
    days: daysBetween(trailer(commit, "Waiting-Since"), commit.author.at),
    link: `${options.baseUrl}/boards/${boardId}/agreements/${supplierId}`,
  };
  if (event === "reminded") return [reminder(commit, facts)];
  if (event !== "escalated") return [];
  const recipients = unique([
    board.contactEmail,
    ...options.holders(board.id, STEP_MANDATE[step]),
  ]);
  return recipients.map((to) => escalation(commit, facts, to));
}

interface AgreementFacts {
  board: Board;
  supplier: Supplier;
  version: string;
  step: WaitingStep;
  days: number;
  link: string;
}

function reminder(commit: CommitInfo, facts: AgreementFacts): Mail {
  const { board, supplier, version, step } = facts;
  const mandate = STEP_MANDATE[step];
  return boardMail(
    mail(
      commit,
      board.contactEmail,
      `Herinnering: verwerkersovereenkomst van ${supplier.name} wacht op ${STEP_NOUN[step]}`,
      {
        greeting: `Beste ${oneLine(board.name)},`,
        sections: [{
          paragraphs: [
            `Versie ${version} van de verwerkersovereenkomst van ${
              oneLine(supplier.name)
            } wacht al ${dayCount(facts.days)} op ${
              STEP_NOUN[step]
            } door iemand met de machtiging "${mandate}".`,
          ],
          link: facts.link,
        }],
      },
    ),
    board.id,
  );
}

function escalation(commit: CommitInfo, facts: AgreementFacts, to: string): Mail {
  const { board, supplier, version, step } = facts;
  const mandate = STEP_MANDATE[step];
  const composed = mail(
    commit,
    to,
    `Dringend: verwerkersovereenkomst van ${supplier.name} wacht al ${dayCount(facts.days)} op ${
      STEP_NOUN[step]
    }`,
    {
      greeting: `Beste ${oneLine(board.name)},`,
      sections: [{
        paragraphs: [
          `Versie ${version} van de verwerkersovereenkomst van ${oneLine(supplier.name)} wacht al ${
            dayCount(facts.days)
          } op ${STEP_NOUN[step]}, ook na een herinnering.`,
          `Dit bericht gaat naar het contactadres van het bestuur en naar iedereen van het bestuur met de machtiging "${mandate}" die in Akkoord een meldadres opgaf.`,
        ],
        link: facts.link,
      }],
    },
  );
  return to === board.contactEmail ? boardMail(composed, board.id) : composed;
}

function invitationMails(commit: CommitInfo, state: State, baseUrl: string): Mail[] {
  const key = `${trailer(commit, "Board")}/${trailer(commit, "Invitation")}`;
  const invitation = state.invitations.get(key);
  const board = invitation && state.boards.get(invitation.board);
  if (invitation === undefined || board === undefined) return [];
  const boardName = oneLine(board.name);
  return [
    mail(commit, invitation.email, `${boardName} nodigt u uit voor Akkoord`, {
      greeting: `Beste ${oneLine(invitation.supplierName)},`,
      sections: [
        { paragraphs: invitation.message.split(/\n{2,}/) },
        {
          heading: "Over dit bericht",
          paragraphs: [
            `${
              oneLine(invitation.actor.name)
            } stuurde dit bericht namens ${boardName} via Akkoord, de dienst waarin leveranciers en schoolbesturen verwerkersovereenkomsten afsluiten. Meer weten of aanmelden als leverancier:`,
          ],
          link: `${baseUrl}/`,
          linkText: "Over Akkoord",
        },
      ],
    }),
  ];
}

function mail(commit: CommitInfo, to: string, subject: string, content: MailContent): Mail {
  return {
    idempotencyKey: `${commit.oid}/${to}`,
    commit: commit.oid,
    to,
    subject: headerText(subject),
    text: mailText(content),
    content,
  };
}

// Mails to a board's contact address say so, as the other board mails do.
function boardMail(composed: Mail, board: BoardId): Mail {
  return { ...composed, board };
}

function unique(addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    const key = address.toLowerCase();
    if (address === "" || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function daysBetween(since: string | undefined, at: Date): number {
  const start = Date.parse(since ?? "");
  return Number.isNaN(start) ? 0 : Math.max(0, Math.floor((at.getTime() - start) / DAY_MS));
}

function dayCount(days: number): string {
  return days === 1 ? "1 dag" : `${days} dagen`;
}

function trailer(commit: CommitInfo, name: string): string | undefined {
  return commit.trailers.find(([key]) => key === name)?.[1];
}
