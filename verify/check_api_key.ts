/**
 * The auditor's checks of suppliers' API keys: a key is registered and
 * revoked only by a person of its supplier, its file holds a public key whose
 * thumbprint is its name, and every act done with a key names a key its
 * supplier registered and had not revoked.
 */
import { JwkError, jwkThumbprint, parsePublicJwk } from "../domain/api_key_jwk.ts";
import { API_KEY_ASSURANCE, API_KEY_SUBJECT_PREFIX } from "../domain/api_keys.ts";
import { apiKeyPath } from "../domain/paths.ts";
import type { ApiKeyRef } from "./event_trailers.ts";
import { asRecord, readJson, sameJson } from "./json_values.ts";
import { type CheckContext, requireOrganisation, requireRole, sameActor } from "./replay.ts";

/** The one path an api-key event may change. */
export function apiKeyPathOf(ref: ApiKeyRef): string {
  return apiKeyPath(ref.supplier, ref.thumbprint);
}

/** api-key-registered: a new file with the public key, by a person of its supplier. */
export function checkApiKeyRegistered(context: CheckContext): void {
  const { replay, loaded, fail } = context;
  const ref = requireKeyHolder(context);
  if (replay.apiKeys.has(ref.key)) throw fail(`API key "${ref.key}" is registered already`);
  const path = apiKeyPathOf(ref);
  const record = readJson(loaded.files.get(path) ?? null, path, fail);
  if (record.supplier !== ref.supplier || record.thumbprint !== ref.thumbprint) {
    throw fail(`${path} does not hold API key "${ref.key}"`);
  }
  checkPublicKey(context, record.jwk, ref, path);
  if (record.revoked !== undefined) throw fail(`${path} is revoked when it is registered`);
  if (!sameActor(asRecord(record.registered)?.actor, context.event)) {
    throw fail(`the registration in ${path} differs from the actor trailers`);
  }
  replay.apiKeys.set(ref.key, { record, revoked: false });
}

/** api-key-revoked: the key's file gains its revocation and nothing else. */
export function checkApiKeyRevoked(context: CheckContext): void {
  const { replay, loaded, fail } = context;
  const ref = requireKeyHolder(context);
  const known = replay.apiKeys.get(ref.key);
  if (known === undefined) throw fail(`API key "${ref.key}" is not registered`);
  if (known.revoked) throw fail(`API key "${ref.key}" is revoked already`);
  const path = apiKeyPathOf(ref);
  const record = readJson(loaded.files.get(path) ?? null, path, fail);
  const { revoked, ...rest } = record;
  if (!sameJson(rest, known.record)) throw fail(`it changes more of ${path} than the revocation`);
  if (!sameActor(asRecord(revoked)?.actor, context.event)) {
    throw fail(`the revocation in ${path} differs from the actor trailers`);
  }
  known.record = record;
  known.revoked = true;
}

/**
 * Any event done with an API key (its actor is `api-key:<thumbprint>` with
 * assurance `api-key`) names a key of the actor's organisation that was
 * registered before and not revoked.
 */
export function checkApiKeyActor(context: CheckContext): void {
  const { actor } = context.event;
  const byKey = actor.subject.startsWith(API_KEY_SUBJECT_PREFIX);
  if (!byKey && actor.assurance !== API_KEY_ASSURANCE) return;
  if (!byKey || actor.assurance !== API_KEY_ASSURANCE) {
    throw context.fail(
      `its actor "${actor.subject}" with assurance "${actor.assurance}" is half an API key`,
    );
  }
  const thumbprint = actor.subject.slice(API_KEY_SUBJECT_PREFIX.length);
  const known = context.replay.apiKeys.get(`${actor.organisation}/${thumbprint}`);
  if (known === undefined) {
    throw context.fail(
      `it was done with API key "${thumbprint}", which ${actor.organisation} never registered`,
    );
  }
  if (known.revoked) {
    throw context.fail(`it was done with API key "${thumbprint}" after it was revoked`);
  }
}

function requireKeyHolder(context: CheckContext): ApiKeyRef {
  const { replay, event, fail } = context;
  const ref = event.apiKey!;
  requireRole(context, "leverancier");
  requireOrganisation(context, ref.supplier, `supplier "${ref.supplier}"`);
  if (!replay.suppliers.has(ref.supplier)) {
    throw fail(`supplier "${ref.supplier}" is not registered`);
  }
  if (event.actor.assurance === API_KEY_ASSURANCE) {
    throw fail("an API key was managed with an API key, not by a person of the supplier");
  }
  return ref;
}

function checkPublicKey(context: CheckContext, jwk: unknown, ref: ApiKeyRef, path: string): void {
  let thumbprint: string;
  try {
    thumbprint = jwkThumbprint(parsePublicJwk(JSON.stringify(jwk ?? null)).jwk);
  } catch (error) {
    if (!(error instanceof JwkError)) throw error;
    throw context.fail(`${path} does not hold an acceptable public key: ${error.message}`);
  }
  if (thumbprint !== ref.thumbprint) {
    throw context.fail(`the key in ${path} has thumbprint ${thumbprint}, not ${ref.thumbprint}`);
  }
}
