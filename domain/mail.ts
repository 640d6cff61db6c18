import type { CommitInfo } from "../store/history.ts";
import { agreementKey } from "./ids.ts";
import type { AgreementStatus, State } from "./state.ts";
import { type MandateHolders, REMINDER_MAIL_EVENTS, reminderMails } from "./reminder_mails.ts";

/** One part of a mail: an optional heading, paragraphs, a quoted text and a link to act on. */
export interface MailSection {
  heading?: string;
  paragraphs: string[];
  /**
   * Someone's own words, such as a rejection's reason: paragraphs of lines,
   * shown quoted after `paragraphs`.
   */
  quote?: string[][];
  link?: string;
  /** What the link shows, for the HTML part; the agreement's page when not given. */
  linkText?: string;
}

/** What a mail says, before it is rendered as text and HTML. */
export interface MailContent {
  greeting: string;
  sections: MailSection[];
}

/** One mail to one recipient, derived from one event commit. */
export interface Mail {
  /** `<commit oid>/<recipient>`: the key that makes sending it idempotent. */
  idempotencyKey: string;
  commit: string;
  /** One address; the outbox refuses to send anything else. */
  to: string;
  /** One line, free of characters that could start a header or an address list. */
  subject: string;
  text: string;
  content: MailContent;
  /** The board whose contact address receives the mail. */
  board?: string;
}

const AGREEMENT_TRAILER = /^(\d{5})\/(\d{8}) version (\d+)$/;
const SIGN_OFF = "Met vriendelijke groet,\nAkkoord";
const MAX_SUBJECT_LENGTH = 200;
const INVITATION =
  "Uw bestuur gebruikt Akkoord nog niet. Wie namens het bestuur inlogt met eHerkenning, aanvaardt eerst eenmalig de gebruiksvoorwaarden; daarna kunt u de overeenkomst beoordelen en ondertekenen.";

/**
 * The mails an event commit causes: an offer tells each board's contact
 * address that an agreement waits for review; an approval tells the board
 * that it waits for a signatory; a signature and a rejection tell the supplier.
 * `baseUrl` is where the service's pages are, for links in the mail. Mails of
 * one commit to the same address are merged, so each (commit, recipient) has
 * one mail.
 */
export function mailsForCommit(
  commit: CommitInfo,
  state: State,
  baseUrl: string,
  holders: MandateHolders = () => [],
): Mail[] {
  const event = trailer(commit, "Event");
  if (REMINDER_MAIL_EVENTS.has(event ?? "")) {
    return reminderMails(commit, state, { baseUrl, holders });
  }
  const mails: Mail[] = [];
  for (const [name, value] of commit.trailers) {
    if (name !== "Agreement") continue;
    const match = AGREEMENT_TRAILER.exec(value);
    if (!match) continue;
    const [, boardId, supplierId, version] = match as unknown as [string, string, string, string];
    const board = state.boards.get(boardId);
    const supplier = state.suppliers.get(supplierId);
    if (!board || !supplier) continue;
    const status = state.agreements.get(agreementKey(boardId, supplierId));
    const title = status && String(status.current.version) === version
      ? oneLine(status.current.title)
      : "";
    const facts = {
      board: oneLine(board.name),
      supplier: oneLine(supplier.name),
      agreement: title ? `"${title}" (versie ${version})` : `versie ${version}`,
    };
    const reason = trailer(commit, "Reason");
    const composed = composeEvent(event, facts, { invite: !board.termsAccepted });
    if (!composed) continue;
    const to = composed.toBoard ? board.contactEmail : supplier.contactEmail;
    const quote = reason === undefined ? [] : quoted(fullReason(status, version, reason));
    mails.push({
      ...mail(commit.oid, to, composed.subject, {
        greeting: `Beste ${composed.toBoard ? facts.board : facts.supplier},`,
        sections: [{
          paragraphs: [...composed.paragraphs, ...(quote.length > 0 ? ["Reden:"] : [])],
          ...(quote.length > 0 ? { quote } : {}),
          ...(composed.toBoard
            ? { link: `${baseUrl}/boards/${boardId}/agreements/${supplierId}` }
            : {
              link: supplierOverviewLink(baseUrl, { supplierId, boardId, event }),
              linkText: "Bekijk het in uw overzicht in Akkoord",
            }),
        }],
      }),
      ...(composed.toBoard ? { board: boardId } : {}),
    });
  }
  return mergeByRecipient(mails);
}

/**
 * The digest of one board's mails of one Europe/Amsterdam day (`YYYY-MM-DD`),
 * sent to the contact address of the newest mail, keyed by (board, day).
 */
export function digestMail(bucket: { board: string; day: string; mails: Mail[] }): Mail {
  const newest = bucket.mails[bucket.mails.length - 1];
  if (!newest) throw new Error(`Cannot compose the digest of board "${bucket.board}": no mails`);
  const [year, month, day] = bucket.day.split("-");
  const count = bucket.mails.length === 1 ? "1 bericht" : `${bucket.mails.length} berichten`;
  const digest = mail(
    newest.commit,
    newest.to,
    `Akkoord: overzicht van ${day}-${month}-${year} (${count})`,
    {
      greeting: newest.content.greeting,
      sections: bucket.mails.flatMap((item) =>
        item.content.sections.map((section) => ({ heading: item.subject, ...section }))
      ),
    },
  );
  return { ...digest, idempotencyKey: `digest/${bucket.board}/${bucket.day}`, board: bucket.board };
}

/**
 * One line of text for a mail: control characters (CR, LF, tab, NUL, line
 * and paragraph separators) become spaces.
 */
export function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").replace(/\s+/g, " ")
    .trim();
}

/**
 * A subject that cannot break out of its header or be read as an address:
 * one line, without angle brackets, commas or quotes, at most 200 characters.
 */
export function headerText(text: string): string {
  return oneLine(oneLine(text).replace(/[<>,"]/g, " ")).slice(0, MAX_SUBJECT_LENGTH);
}

/**
 * The plain-text part of a mail; a quote keeps its paragraphs and lines,
 * each line behind "> ".
 */
export function mailText(content: MailContent): string {
  const sections = content.sections.map((section) =>
    [
      ...(section.heading ? [section.heading] : []),
      ...section.paragraphs,
      ...(section.quote && section.quote.length > 0 ? [quoteText(section.quote)] : []),
      ...(section.link ? [section.link] : []),
    ].join("\n\n")
  );
  return [content.greeting, ...sections, SIGN_OFF].join("\n\n") + "\n";
}

/**
 * Someone's multi-line text as paragraphs of single lines: blank lines
 * part paragraphs, control characters become spaces, empty lines go.
 */
export function quoted(text: string): string[][] {
  return text.replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.split("\n").map(oneLine).filter((line) => line !== ""))
    .filter((paragraph) => paragraph.length > 0);
}

/**
 * Where a supplier reads about one board's agreement: its overview, at the
 * board's row, or at the rejection's reason.
 */
export function supplierOverviewLink(
  baseUrl: string,
  target: { supplierId: string; boardId: string; event?: string },
): string {
  const anchor = target.event === "rejected" ? "afwijzing" : "bestuur";
  return `${baseUrl}/suppliers/${target.supplierId}#${anchor}-${target.boardId}`;
}

function quoteText(quote: string[][]): string {
  return quote.map((paragraph) => paragraph.map((line) => `> ${line}`).join("\n")).join("\n>\n");
}

/**
 * The reason as the reviewer wrote it, with its paragraphs: the trailer has
 * it on one line, the agreement's history in full.
 */
function fullReason(status: AgreementStatus | undefined, version: string, trailer: string): string {
  const entry = status?.history.findLast((item) =>
    item.action === "rejected" && String(item.version) === version && item.reason !== undefined &&
    oneLine(item.reason) === oneLine(trailer)
  );
  return entry?.reason ?? trailer;
}

interface EventFacts {
  board: string;
  supplier: string;
  agreement: string;
}

function composeEvent(
  event: string | undefined,
  facts: EventFacts,
  extra: { invite: boolean },
): { toBoard: boolean; subject: string; paragraphs: string[] } | null {
  if (event === "offered") {
    return {
      toBoard: true,
      subject: `Nieuwe verwerkersovereenkomst van ${facts.supplier}`,
      paragraphs: [
        `${facts.supplier} biedt u de verwerkersovereenkomst ${facts.agreement} aan. Iemand met de machtiging "beoordelen" kan haar nu beoordelen.`,
        ...(extra.invite ? [INVITATION] : []),
      ],
    };
  }
  if (event === "approved") {
    return {
      toBoard: true,
      subject: `Verwerkersovereenkomst van ${facts.supplier} wacht op ondertekening`,
      paragraphs: [
        `De verwerkersovereenkomst ${facts.agreement} van ${facts.supplier} is goedgekeurd en wacht op ondertekening door iemand met de machtiging "ondertekenen".`,
      ],
    };
  }
  if (event === "signed" || event === "rejected") {
    const verb = event === "signed" ? "ondertekend" : "afgewezen";
    return {
      toBoard: false,
      subject: `${facts.board} heeft de verwerkersovereenkomst ${verb}`,
      paragraphs: [`${facts.board} heeft de verwerkersovereenkomst ${facts.agreement} ${verb}.`],
    };
  }
  return null;
}

function mail(commit: string, to: string, subject: string, content: MailContent): Mail {
  return {
    idempotencyKey: `${commit}/${to}`,
    commit,
    to,
    subject: headerText(subject),
    text: mailText(content),
    content,
  };
}

function mergeByRecipient(mails: Mail[]): Mail[] {
  const byRecipient = new Map<string, Mail>();
  for (const item of mails) {
    const earlier = byRecipient.get(item.to);
    if (!earlier) {
      byRecipient.set(item.to, item);
      continue;
    }
    const content = {
      greeting: earlier.content.greeting,
      sections: [...earlier.content.sections, ...item.content.sections],
    };
    byRecipient.set(item.to, { ...earlier, content, text: mailText(content) });
  }
  return [...byRecipient.values()];
}

function trailer(commit: CommitInfo, name: string): string | undefined {
  return commit.trailers.find(([key]) => key === name)?.[1];
}
