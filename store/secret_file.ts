import { writeFileDurably } from "./durable_file.ts";

/**
 * Reads a secret kept in a file, creating it with `create` (mode 0600) on
 * first use. Used for the development session secret and broker key, where
 * nothing is configured.
 */
export async function loadOrCreateSecretFile(
  path: string,
  create: () => string | Promise<string>,
): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new Error(`Cannot read the secret file "${path}"`, { cause: error });
    }
  }
  const secret = await create();
  await writeFileDurably(path, new TextEncoder().encode(secret), 0o600);
  return secret;
}

/** A random 256-bit secret as 64 hex digits. */
export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
