import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { boardTarget } from "../domain/authorisation.ts";
import { isMailAddress, MAIL_ADDRESS_MAX_LENGTH } from "../domain/invite_supplier.ts";
import type { Board } from "../domain/state.ts";
import type { NotificationAddresses } from "../store/notification_addresses.ts";
import { NotificationsPage, type NotificationsPageProps } from "../views/notifications_page.ts";
import { renderPage } from "../views/render.ts";
import { authorisedSession } from "./authorised.ts";
import { fieldErrors } from "./form_errors.ts";
import type { Services } from "./services.ts";
import type { Session, Sessions } from "./session.ts";
import { pageUser } from "./ui.ts";

/** What {@link createNotificationsUi} needs. */
export interface NotificationsUiOptions {
  services: Services;
  sessions: Sessions;
  addresses: NotificationAddresses;
}

const AddressForm = z.object({
  email: z.string().trim().refine(
    isMailAddress,
    "Vul een e-mailadres in zoals naam@bestuur.nl, zonder spaties of andere tekens eromheen.",
  ),
});

/**
 * "Mijn meldingen" of one board: GET `/boards/:board/notifications` shows the
 * person's own address, POST saves it, POST `.../remove` removes it. Only the
 * board's reviewers and signatories, and each sees only their own address.
 */
export function createNotificationsUi(options: NotificationsUiOptions): Hono {
  const { services, sessions, addresses } = options;
  const ui = new Hono();

  ui.get("/boards/:board/notifications", async (c) => {
    const { session, board } = await allowed(c);
    const query = c.req.query();
    const done = "opgeslagen" in query ? "saved" : "verwijderd" in query ? "removed" : undefined;
    return respond(c, pageProps(session, board, done ? { done } : {}));
  });

  ui.post("/boards/:board/notifications", async (c) => {
    const { session, board } = await allowed(c);
    const values = { email: String((await c.req.parseBody())["email"] ?? "") };
    const form = AddressForm.safeParse(values);
    if (!form.success) {
      return respond(
        c,
        pageProps(session, board, { errors: fieldErrors(form.error), values }),
        422,
      );
    }
    const { principal } = session;
    await addresses.save({
      board: board.id,
      subject: principal.subject,
      name: principal.name,
      email: form.data.email,
      mandates: principal.mandates,
    });
    return c.redirect(`/boards/${board.id}/notifications?opgeslagen`, 303);
  });

  ui.post("/boards/:board/notifications/remove", async (c) => {
    const { session, board } = await allowed(c);
    await addresses.remove(board.id, session.principal.subject);
    return c.redirect(`/boards/${board.id}/notifications?verwijderd`, 303);
  });

  async function allowed(c: Context): Promise<{ session: Session; board: Board }> {
    const board = services.store.state.boards.get(c.req.param("board") ?? "");
    const session = await sessions.read(c);
    if (board === undefined) {
      throw new HTTPException(404, { message: "Dit schoolbestuur bestaat niet." });
    }
    return {
      session: authorisedSession(session, "notifications.manage", boardTarget(board)),
      board,
    };
  }

  function pageProps(
    session: Session,
    board: Board,
    extra: Partial<NotificationsPageProps>,
  ): NotificationsPageProps {
    const saved = addresses.find(board.id, session.principal.subject);
    return {
      board,
      user: pageUser(services.store.state, session.principal),
      csrf: session.csrf,
      saved: saved && {
        email: saved.email,
        mandates: saved.mandates,
        savedAt: saved.savedAt,
      },
      maxLength: MAIL_ADDRESS_MAX_LENGTH,
      ...extra,
    };
  }

  return ui;
}

// The page shows a personal address, so no shared cache may keep it.
function respond(c: Context, props: NotificationsPageProps, status: 200 | 422 = 200): Response {
  c.header("Cache-Control", "no-store");
  return c.html(renderPage(NotificationsPage(props)), status);
}
