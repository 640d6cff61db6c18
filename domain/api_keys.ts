/**
 * Suppliers' API keys: a person acting for a supplier registers a public key
 * or revokes one, each as one event in the history, so an auditor sees which
 * key could act for the supplier when. Private keys never reach Akkoord.
 */
import type { Decision } from "../store/history.ts";
import { actorRecord, type Principal } from "./actor.ts";
import { type AcceptedJwk, jwkThumbprint } from "./api_key_jwk.ts";
import { DomainError } from "./errors.ts";
import { eventCommit, isoSeconds, jsonFile } from "./event.ts";
import { apiKeyKey, type SupplierId } from "./ids.ts";
import { apiKeyPath } from "./paths.ts";
import { requireSupplier } from "./permissions.ts";
import { hasVisibleContent, plainText } from "./plain_text.ts";
import type { ApiKey, State, Supplier } from "./state.ts";

/** The assurance of acts done with an API key rather than an eHerkenning login. */
export const API_KEY_ASSURANCE = "api-key";
/** The prefix of the subject of a principal that authenticated with an API key. */
export const API_KEY_SUBJECT_PREFIX = "api-key:";
/** How many unrevoked keys a supplier may have at once. */
export const MAX_ACTIVE_API_KEYS = 10;
/** The longest label of a key, in characters. */
export const MAX_API_KEY_LABEL = 100;

/** A person's registration of a supplier's public key. */
export interface RegisterApiKeyCommand {
  principal: Principal;
  supplier: SupplierId;
  label: string;
  key: AcceptedJwk;
  at: Date;
}

/** A person's revocation of one of a supplier's keys. */
export interface RevokeApiKeyCommand {
  principal: Principal;
  supplier: SupplierId;
  thumbprint: string;
  at: Date;
}

/**
 * Registers a public key for a supplier's client assertions. Refuses a key
 * that is registered already, or was and is revoked: a revoked key never
 * returns. Only a person logged in for the supplier may register.
 */
export function registerApiKey(state: State, command: RegisterApiKeyCommand): Decision<ApiKey> {
  const supplier = keyHolder(state, command.principal, command.supplier);
  const label = checkedLabel(command.label);
  const thumbprint = jwkThumbprint(command.key.jwk);
  const existing = state.apiKeys.get(apiKeyKey(supplier.id, thumbprint));
  if (existing) {
    throw new DomainError(
      "duplicate",
      `Cannot register API key "${thumbprint}": it is registered already${
        existing.revoked ? " and was revoked" : ""
      }`,
    );
  }
  if (activeApiKeys(state, supplier.id).length >= MAX_ACTIVE_API_KEYS) {
    throw new DomainError(
      "invalid_input",
      `Cannot register an API key for "${supplier.id}": it has ${MAX_ACTIVE_API_KEYS} active keys already`,
    );
  }
  const actor = actorRecord(command.principal, "leverancier");
  const key: ApiKey = {
    supplier: supplier.id,
    thumbprint,
    label,
    algorithms: command.key.algorithms,
    jwk: command.key.jwk,
    registered: { at: isoSeconds(command.at), actor },
  };
  return {
    commit: eventCommit({
      kind: "api-key-registered",
      subject: `Register API key ${thumbprint} of ${supplier.name}`,
      trailers: [["Api-Key", apiKeyKey(supplier.id, thumbprint)]],
      actor,
      at: command.at,
      files: new Map([[apiKeyPath(supplier.id, thumbprint), jsonFile(key)]]),
    }),
    result: key,
  };
}

/** Revokes a supplier's key at once. Revoking a revoked key changes nothing. */
export function revokeApiKey(state: State, command: RevokeApiKeyCommand): Decision<ApiKey> {
  const supplier = keyHolder(state, command.principal, command.supplier);
  const key = state.apiKeys.get(apiKeyKey(supplier.id, command.thumbprint));
  if (!key) {
    throw new DomainError(
      "not_found",
      `Cannot revoke API key "${command.thumbprint}": supplier "${supplier.id}" has no such key`,
    );
  }
  if (key.revoked) return { commit: null, result: key };
  const actor = actorRecord(command.principal, "leverancier");
  const revoked: ApiKey = { ...key, revoked: { at: isoSeconds(command.at), actor } };
  return {
    commit: eventCommit({
      kind: "api-key-revoked",
      subject: `Revoke API key ${key.thumbprint} of ${supplier.name}`,
      trailers: [["Api-Key", apiKeyKey(supplier.id, key.thumbprint)]],
      actor,
      at: command.at,
      files: new Map([[apiKeyPath(supplier.id, key.thumbprint), jsonFile(revoked)]]),
    }),
    result: revoked,
  };
}

/** A supplier's keys, revoked ones included, newest first. */
export function apiKeysOf(state: State, supplier: SupplierId): ApiKey[] {
  return [...state.apiKeys.values()]
    .filter((key) => key.supplier === supplier)
    .sort((a, b) =>
      b.registered.at.localeCompare(a.registered.at) || a.thumbprint.localeCompare(b.thumbprint)
    );
}

/** A supplier's unrevoked keys, newest first. */
export function activeApiKeys(state: State, supplier: SupplierId): ApiKey[] {
  return apiKeysOf(state, supplier).filter((key) => !key.revoked);
}

/**
 * Who acts when a client authenticates with a key: the supplier, named by
 * the key's thumbprint and label. It is never a board person, admin or auditor.
 */
export function apiKeyPrincipal(key: ApiKey): Principal {
  return {
    subject: API_KEY_SUBJECT_PREFIX + key.thumbprint,
    name: key.label,
    organisation: key.supplier,
    assurance: API_KEY_ASSURANCE,
    mandates: [],
    supplier: true,
    admin: false,
    auditor: false,
  };
}

// A key may not manage keys: only a person logged in with eHerkenning for the supplier.
function keyHolder(state: State, principal: Principal, supplierId: SupplierId): Supplier {
  requireSupplier(principal, supplierId);
  if (principal.assurance === API_KEY_ASSURANCE) {
    throw new DomainError(
      "forbidden",
      `Cannot manage the API keys of "${supplierId}" with an API key; log in for the supplier`,
    );
  }
  const supplier = state.suppliers.get(supplierId);
  if (!supplier) {
    throw new DomainError("not_found", `Supplier "${supplierId}" is not registered`);
  }
  return supplier;
}

function checkedLabel(label: string): string {
  const trimmed = plainText(label).trim();
  if (
    !hasVisibleContent(trimmed) || trimmed.length > MAX_API_KEY_LABEL || /\p{Cc}/u.test(trimmed)
  ) {
    throw new DomainError(
      "invalid_input",
      `Cannot register the API key: its label must be 1 to ${MAX_API_KEY_LABEL} characters on one line`,
    );
  }
  return trimmed;
}
