import type { CommitInfo } from "../store/history.ts";
import type { State } from "./state.ts";

/** One mail to one recipient, derived from one event commit. */
export interface Mail {
  /** `<commit oid>/<recipient>`: the key that makes sending it idempotent. */
  idempotencyKey: string;
  commit: string;
  to: string;
  subject: string;
  text: string;
}

const AGREEMENT_TRAILER = /^(\d{5})\/(\d{8}) version (\d+)$/;

/**
 * The mails an event commit causes: an offer tells each board's contact
 * address that an agreement waits for review; an approval tells the board
 * that it waits for a signatory; a signature and a rejection tell the supplier.
 * `baseUrl` is where the service's pages are, for links in the mail.
 */
export function mailsForCommit(commit: CommitInfo, state: State, baseUrl: string): Mail[] {
  const event = trailer(commit, "Event");
  const mails: Mail[] = [];
  for (const [name, value] of commit.trailers) {
    if (name !== "Agreement") continue;
    const match = AGREEMENT_TRAILER.exec(value);
    if (!match) continue;
    const [, boardId, supplierId, version] = match as unknown as [string, string, string, string];
    const board = state.boards.get(boardId);
    const supplier = state.suppliers.get(supplierId);
    if (!board || !supplier) continue;
    const link = `${baseUrl}/boards/${boardId}/agreements/${supplierId}`;
    if (event === "offered") {
      mails.push(
        mail(commit, board.contactEmail, `Nieuwe verwerkersovereenkomst van ${supplier.name}`, [
          `Beste ${board.name},`,
          `${supplier.name} biedt u versie ${version} van zijn verwerkersovereenkomst aan. Iemand met de machtiging "beoordelen" kan haar nu beoordelen:`,
          link,
          ...(board.termsAccepted ? [] : [
            `Uw bestuur gebruikt Akkoord nog niet. Wie namens het bestuur inlogt met eHerkenning, aanvaardt eerst eenmalig de gebruiksvoorwaarden; daarna kunt u de overeenkomst beoordelen en ondertekenen.`,
          ]),
        ]),
      );
    } else if (event === "approved") {
      mails.push(
        mail(
          commit,
          board.contactEmail,
          `Verwerkersovereenkomst van ${supplier.name} wacht op ondertekening`,
          [
            `Beste ${board.name},`,
            `Versie ${version} van de verwerkersovereenkomst van ${supplier.name} is goedgekeurd en wacht op ondertekening door iemand met de machtiging "ondertekenen":`,
            link,
          ],
        ),
      );
    } else if (event === "signed" || event === "rejected") {
      const verb = event === "signed" ? "ondertekend" : "afgewezen";
      const reason = trailer(commit, "Reason");
      mails.push(
        mail(
          commit,
          supplier.contactEmail,
          `${board.name} heeft de verwerkersovereenkomst ${verb}`,
          [
            `Beste ${supplier.name},`,
            `${board.name} heeft versie ${version} van uw verwerkersovereenkomst ${verb}.`,
            ...(reason ? [`Reden: ${reason}`] : []),
          ],
        ),
      );
    }
  }
  return mails;
}

function mail(commit: CommitInfo, to: string, subject: string, paragraphs: string[]): Mail {
  return {
    idempotencyKey: `${commit.oid}/${to}`,
    commit: commit.oid,
    to,
    subject,
    text: [...paragraphs, "Met vriendelijke groet,\nAkkoord"].join("\n\n") + "\n",
  };
}

function trailer(commit: CommitInfo, name: string): string | undefined {
  return commit.trailers.find(([key]) => key === name)?.[1];
}
