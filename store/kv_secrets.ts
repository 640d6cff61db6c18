/// <reference lib="deno.unstable" />
/**
 * Development secrets kept in the Deno KV database, for a service without a
 * local disk: the signing key, the session secret and the development
 * broker's key, each created once, by whichever instance comes first, under
 * `["akkoord", "secrets", <name>]`. Production takes its secrets from the
 * environment instead (config.ts refuses to start without them).
 */
import { retryWhenLocked } from "./kv_retry.ts";

/** The secrets a development service may keep in KV. */
export type KvSecretName = "signing_key" | "session_secret" | "dev_broker_key";

/**
 * The secret `name` from `kv`, created with `create` when there is none. Two
 * instances starting together get the same secret: only the first write lands.
 */
export async function loadOrCreateKvSecret(
  kv: Deno.Kv,
  name: KvSecretName,
  create: () => string | Promise<string>,
): Promise<string> {
  const key = ["akkoord", "secrets", name];
  const found = await retryWhenLocked(() => kv.get<string>(key));
  if (typeof found.value === "string") return found.value;
  const secret = await create();
  const result = await retryWhenLocked(() =>
    kv.atomic().check({ key, versionstamp: null }).set(key, secret).commit()
  ).catch((error) => {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot keep the development secret "${name}" in Deno KV: ${why}`);
  });
  if (result.ok) return secret;
  const winner = await retryWhenLocked(() => kv.get<string>(key));
  if (typeof winner.value !== "string") {
    throw new Error(`Cannot read the development secret "${name}" from Deno KV: it is not text`);
  }
  return winner.value;
}
