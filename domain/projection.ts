import type { Projection } from "../store/history.ts";
import { agreementKey, apiKeyKey } from "./ids.ts";
import { parseStatePath } from "./paths.ts";
import {
  type AgreementStatus,
  type ApiKey,
  type Board,
  emptyState,
  type Invitation,
  type ReminderRecord,
  type State,
  type Supplier,
} from "./state.ts";

const decoder = new TextDecoder();

/**
 * Derives the {@link State} from the files of the history: boards, suppliers,
 * suppliers' API keys, each agreement's status.json and reminders.json, and
 * boards' invitations. Applied to the head tree on open and to
 * every appended commit, so a rebuild always gives the same state.
 */
export const stateProjection: Projection<State> = {
  empty: emptyState,
  wants: (path) => parseStatePath(path) !== null,
  apply(state, path, content) {
    const target = parseStatePath(path);
    if (!target) return;
    const value = content === null ? null : JSON.parse(decoder.decode(content));
    if (target.kind === "board") {
      setOrDelete(state.boards, target.board, value as Board | null);
    } else if (target.kind === "supplier") {
      setOrDelete(state.suppliers, target.supplier, value as Supplier | null);
    } else if (target.kind === "api-key") {
      const key = apiKeyKey(target.supplier, target.thumbprint);
      setOrDelete(state.apiKeys, key, value as ApiKey | null);
    } else if (target.kind === "reminders") {
      const key = agreementKey(target.board, target.supplier);
      setOrDelete(state.reminders, key, value as ReminderRecord | null);
    } else if (target.kind === "invitation") {
      setOrDelete(state.invitations, `${target.board}/${target.id}`, value as Invitation | null);
    } else {
      const key = agreementKey(target.board, target.supplier);
      setOrDelete(state.agreements, key, value as AgreementStatus | null);
    }
  },
  setHead(state, oid) {
    state.head = oid;
  },
};

function setOrDelete<K, V>(map: Map<K, V>, key: K, value: V | null): void {
  if (value === null) map.delete(key);
  else map.set(key, value);
}
