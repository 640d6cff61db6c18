import { ConfigError } from "./config.ts";
import { startServer } from "./server.ts";

/** Starts Akkoord with the configuration of the environment. */
async function main(): Promise<void> {
  try {
    const server = await startServer(Deno.env.toObject());
    const { config } = server;
    const lines = [
      `Akkoord listens on ${server.url} (${config.mode} mode); open ${config.publicUrl}`,
      `History repository: ${config.dataDir}/history.git`,
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

if (import.meta.main) await main();
