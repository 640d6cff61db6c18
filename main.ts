import { type Config, ConfigError } from "./config.ts";
import { startServer } from "./server.ts";

/** Starts Akkoord with the configuration of the environment. */
async function main(): Promise<void> {
  try {
    const server = await startServer(Deno.env.toObject());
    const { config } = server;
    const lines = [
      `Akkoord listens on ${server.url} (${config.mode} mode); open ${config.publicUrl}`,
      historyLine(config),
      ...(config.devLogin
        ? ["Development login is on: log in with any demo board or supplier."]
        : []),
      ...(config.mode === "development" ? [`Mail outbox: ${config.publicUrl}/dev/outbox`] : []),
    ];
    Deno.stdout.writeSync(new TextEncoder().encode(lines.join("\n") + "\n"));
  } catch (error) {
    const message = error instanceof ConfigError || error instanceof Error
      ? error.message
      : String(error);
    Deno.stderr.writeSync(new TextEncoder().encode(`Akkoord cannot start: ${message}\n`));
    Deno.exit(1);
  }
}

/** Where the history (and, with Deno KV, everything else) is kept. */
function historyLine(config: Config): string {
  if (config.store.kind === "disk") return `History repository: ${config.dataDir}/history.git`;
  const where = config.store.kvPath === null
    ? "the deployment's own database"
    : `"${config.store.kvPath}"`;
  const kept = [
    ...(config.store.signingKey === null ? ["signing key"] : []),
    ...(config.sessionSecret === null ? ["session secret"] : []),
    ...(config.devLogin ? ["development broker key"] : []),
  ];
  return `History and all other state: Deno KV, ${where}` +
    (kept.length > 0 ? ` (${kept.join(", ")} kept in it, for development only)` : "");
}

if (import.meta.main) await main();
