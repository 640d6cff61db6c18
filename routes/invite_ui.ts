import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { boardTarget } from "../domain/authorisation.ts";
import { DomainError } from "../domain/errors.ts";
import {
  DEFAULT_INVITATION_LIMITS,
  defaultInvitationMessage,
  hasControlCharacters,
  invitationLimitReached,
  type InvitationLimits,
  inviteSupplier,
  isMailAddress,
  isSingleLine,
  MAIL_ADDRESS_MAX_LENGTH,
  MESSAGE_MAX_LENGTH,
  normaliseMessage,
  SUPPLIER_NAME_MAX_LENGTH,
} from "../domain/invite_supplier.ts";
import { hasVisibleContent, plainText } from "../domain/plain_text.ts";
import type { Board, Invitation } from "../domain/state.ts";
import { formatDate, formatDateTime } from "../views/format.ts";
import {
  type InvitationValues,
  InviteSupplierPage,
  type InviteSupplierPageProps,
  type SentInvitation,
} from "../views/invite_supplier_page.ts";
import { renderPage } from "../views/render.ts";
import { authorisedSession } from "./authorised.ts";
import { fieldErrors } from "./form_errors.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";

const LIMITS = {
  supplierName: SUPPLIER_NAME_MAX_LENGTH,
  email: MAIL_ADDRESS_MAX_LENGTH,
  message: MESSAGE_MAX_LENGTH,
};

const InviteForm = z.object({
  supplierName: z.string().transform((text) => plainText(text).trim()).pipe(
    z.string()
      .min(1, "Vul de naam van de leverancier in.")
      .max(SUPPLIER_NAME_MAX_LENGTH, `Een naam heeft hoogstens ${SUPPLIER_NAME_MAX_LENGTH} tekens.`)
      .refine(isSingleLine, "Een naam staat op één regel, zonder regeleinden of stuurtekens."),
  ),
  email: z.string().trim().refine(
    isMailAddress,
    "Vul één e-mailadres in zoals naam@leverancier.nl, zonder spaties of andere tekens eromheen.",
  ),
  message: z.string().transform(normaliseMessage).pipe(
    z.string()
      .max(MESSAGE_MAX_LENGTH, `Een bericht heeft hoogstens ${MESSAGE_MAX_LENGTH} tekens.`)
      .refine(hasVisibleContent, "Schrijf een bericht aan de leverancier.")
      .refine((text) => !hasControlCharacters(text), "Het bericht bevat stuurtekens."),
  ),
});

/** Settings of {@link createInviteUi}. */
export interface InviteUiOptions {
  services: Services;
  sessions: Sessions;
  /** Invitations a board may send per Europe/Amsterdam day; 10 when left out. */
  perDay?: number;
}

/**
 * "Ask your supplier": GET `/boards/:board/invite` shows the form with a
 * ready-made message, POST records the invitation as an event commit, which
 * the outbox mails to the supplier. Only the board's reviewers and signatories,
 * within the limits of {@link InvitationLimits}. After sending, the page
 * confirms the recorded invitation named by `?verstuurd=<invitation id>`.
 */
export function createInviteUi(options: InviteUiOptions): Hono {
  const { services, sessions } = options;
  const { store, now } = services;
  const limits: InvitationLimits = {
    ...DEFAULT_INVITATION_LIMITS,
    ...(options.perDay ? { perDay: options.perDay } : {}),
  };
  const ui = new Hono();

  ui.get("/boards/:board/invite", async (c) => {
    const { session, board } = await allowed(c);
    const sent = store.state.invitations.get(`${board.id}/${c.req.query("verstuurd") ?? ""}`);
    return respond(c, pageProps(session, board, sent ? { sent: sentInvitation(sent) } : {}));
  });

  ui.post("/boards/:board/invite", async (c) => {
    const { session, board } = await allowed(c);
    const body = await c.req.parseBody();
    const values: InvitationValues = {
      supplierName: String(body["supplierName"] ?? ""),
      email: String(body["email"] ?? ""),
      message: String(body["message"] ?? ""),
    };
    const form = InviteForm.safeParse(values);
    if (!form.success) {
      return respond(
        c,
        pageProps(session, board, { errors: fieldErrors(form.error), values }),
        422,
      );
    }
    const at = now();
    let invitation: Invitation;
    try {
      ({ result: invitation } = await store.transact((state) =>
        inviteSupplier(state, {
          principal: session.principal,
          board: board.id,
          ...form.data,
          at,
          limits,
        })
      ));
    } catch (error) {
      if (error instanceof DomainError && error.code === "limit_reached") {
        const refusal = limitMessage(board, form.data.email, at);
        return respond(c, pageProps(session, board, { ...refusal, values }), 429);
      }
      const errors = fieldErrorOf(error);
      return respond(c, pageProps(session, board, { errors, values }), 422);
    }
    return c.redirect(`/boards/${board.id}/invite?verstuurd=${invitation.id}`, 303);
  });

  function limitMessage(
    board: Board,
    email: string,
    at: Date,
  ): Pick<InviteSupplierPageProps, "errors" | "limitReached"> {
    const reached = invitationLimitReached(store.state, { board: board.id, email, at }, limits);
    if (reached?.kind === "same_address") {
      return {
        errors: {
          email: `Uw bestuur nodigde dit adres op ${
            formatDate(reached.earlier.at)
          } al uit. Een adres krijgt hoogstens één uitnodiging per ${limits.sameAddressDays} dagen; u kunt het vanaf ${
            formatDateTime(reached.againFrom)
          } opnieuw uitnodigen.`,
        },
      };
    }
    return {
      limitReached:
        `Uw bestuur heeft vandaag al ${limits.perDay} uitnodigingen verstuurd, het hoogste aantal per dag. Probeer het morgen opnieuw.`,
    };
  }

  async function allowed(c: Context): Promise<{ session: Session; board: Board }> {
    const board = store.state.boards.get(c.req.param("board") ?? "");
    const session = await sessions.read(c);
    if (board === undefined) {
      throw new HTTPException(404, { message: "Dit schoolbestuur bestaat niet." });
    }
    return { session: authorisedSession(session, "supplier.invite", boardTarget(board)), board };
  }

  function pageProps(
    session: Session,
    board: Board,
    extra: Partial<InviteSupplierPageProps>,
  ): InviteSupplierPageProps {
    const invitations = [...store.state.invitations.values()]
      .filter((invitation) => invitation.board === board.id)
      .sort((a, b) => b.at.localeCompare(a.at))
      .map(sentInvitation);
    return {
      board,
      user: pageUser(store.state, session.principal),
      csrf: session.csrf,
      values: {
        supplierName: "",
        email: "",
        message: defaultInvitationMessage(board, session.principal.name),
      },
      limits: LIMITS,
      invitations,
      ...extra,
    };
  }

  return ui;
}

/** The form error a refused invitation shows; what is no input error is thrown on. */
function fieldErrorOf(error: unknown): Record<string, string> {
  if (!(error instanceof DomainError)) throw error;
  switch (error.code) {
    case "duplicate":
      return { email: "Deze leverancier staat al op Akkoord met dit adres." };
    case "terms_not_accepted":
      throw new HTTPException(409, {
        message: "Uw bestuur moet eerst de gebruiksvoorwaarden aanvaarden.",
      });
    case "invalid_input":
      return { message: "De uitnodiging klopt niet helemaal. Controleer de velden." };
    case "forbidden":
      throw new HTTPException(403, { message: "U mag niet namens dit bestuur uitnodigen." });
    default:
      throw error;
  }
}

function sentInvitation(invitation: Invitation): SentInvitation {
  return {
    supplierName: invitation.supplierName,
    email: invitation.email,
    at: invitation.at,
    by: invitation.actor.name,
  };
}

function respond(
  c: Context,
  props: InviteSupplierPageProps,
  status: 200 | 422 | 429 = 200,
): Response {
  c.header("Cache-Control", "no-store");
  return c.html(renderPage(InviteSupplierPage(props)), status);
}
