import type { Principal } from "../domain/actor.ts";
import type { State } from "../domain/state.ts";
import type { HistoryStore } from "../store/history.ts";
import type { Outbox } from "../store/outbox.ts";

/** What the HTTP routes need from the rest of the service, built by main.ts. */
export interface Services {
  store: HistoryStore<State>;
  outbox: Outbox;
  now: () => Date;
  /** Verifies a bearer token of the login broker; throws an AuthError. */
  verifyToken: (token: string) => Promise<Principal>;
}
