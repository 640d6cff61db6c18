import { HTTPException } from "hono/http-exception";
import type { Principal } from "../domain/actor.ts";
import { type Action, authorise, type TargetOf } from "../domain/authorisation.ts";
import type { Session } from "./session.ts";

const LOG_IN_NL = "Log in om verder te gaan.";

/** What a page says when the authorisation table refuses an action (403). */
export const REFUSAL_NL: Record<Action, string> = {
  "board.read": "U handelt niet namens dit schoolbestuur.",
  "board.accept_terms":
    "Alleen beoordelaars en ondertekenaars van dit schoolbestuur kunnen de gebruiksvoorwaarden aanvaarden.",
  "agreement.read": "U handelt niet namens dit schoolbestuur.",
  "agreement.download": "U handelt niet namens dit schoolbestuur.",
  "agreement.approve": "Alleen een beoordelaar van dit schoolbestuur kan een versie goedkeuren.",
  "agreement.reject": "Alleen een beoordelaar van dit schoolbestuur kan een versie afwijzen.",
  "agreement.sign": "Alleen een ondertekenaar van dit schoolbestuur kan deze versie ondertekenen.",
  "supplier.invite":
    "Alleen beoordelaars en ondertekenaars van dit schoolbestuur nodigen namens het bestuur een leverancier uit.",
  "notifications.manage":
    "Alleen beoordelaars en ondertekenaars van dit schoolbestuur geven voor dit bestuur een meldadres op.",
  "supplier.read": "U handelt niet namens deze leverancier.",
  "offer.create": "Alleen een leverancier kan een overeenkomst aanbieden.",
  "agreement.withdraw": "Alleen de leverancier zelf kan een versie intrekken.",
  "agreement.read_as_supplier": "U handelt niet namens deze leverancier.",
  "supplier_keys.manage": "Alleen wie namens deze leverancier inlogt, beheert haar API-sleutels.",
  "admin.read": "Deze pagina is voor beheerders.",
  "registry.manage": "Alleen beheerders registreren schoolbesturen en leveranciers.",
  "tokens.manage":
    "Toegangssleutels tot de geschiedenis zijn er alleen voor auditors en beheerders.",
  "history.clone": "De volledige geschiedenis is er alleen voor auditors en beheerders.",
  "outbox.read": "U mag de uitgaande post niet inzien.",
};

/**
 * Throws the page's 401 (nobody logged in) or 403 (the login may not) unless
 * the authorisation table allows `action` on `target`.
 */
export function requireAuthorised<A extends Action>(
  principal: Principal | null,
  action: A,
  target: TargetOf<A>,
): void {
  const decision = authorise(principal, action, target);
  if (decision.allowed) return;
  const message = decision.status === 401 ? LOG_IN_NL : REFUSAL_NL[action];
  throw new HTTPException(decision.status, { message });
}

/** The session, once the authorisation table allows `action` on `target` for its principal. */
export function authorisedSession<A extends Action>(
  session: Session | null,
  action: A,
  target: TargetOf<A>,
): Session {
  requireAuthorised(session?.principal ?? null, action, target);
  if (session === null) throw new HTTPException(401, { message: LOG_IN_NL });
  return session;
}

/** Whether the authorisation table allows it; for what a page offers, not for guarding. */
export function isAuthorised<A extends Action>(
  principal: Principal | null,
  action: A,
  target: TargetOf<A>,
): boolean {
  return authorise(principal, action, target).allowed;
}
