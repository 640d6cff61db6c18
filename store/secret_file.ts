/**
 * Reads a random secret kept in a file, creating it (mode 0600) on first use.
 * Used in development, where no secret is configured.
 */
export async function loadOrCreateSecret(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.writeTextFile(path, `${secret}\n`, { mode: 0o600, createNew: true });
  return secret;
}
