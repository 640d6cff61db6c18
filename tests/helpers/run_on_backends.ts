/**
 * Runs the test suite once per history backend: `deno task test [args]`.
 * Each run is `deno test --allow-all [args]` with AKKOORD_TEST_STORE set to
 * its backend, introduced by a line naming it; the exit code is 1 when any
 * run failed. With AKKOORD_TEST_STORE already set, only that backend runs.
 */
// Kept free of the store's modules, so that starting the runner loads nothing else.
const TEST_STORE_VARIABLE = "AKKOORD_TEST_STORE";
const BACKENDS = ["disk", "kv"] as const;
type Backend = typeof BACKENDS[number];

const encoder = new TextEncoder();

function say(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}

/** The backends to run: the one AKKOORD_TEST_STORE names, else both. */
function backends(): Backend[] {
  const chosen = Deno.env.get(TEST_STORE_VARIABLE);
  if (chosen === undefined || chosen === "") return [...BACKENDS];
  const backend = BACKENDS.find((name) => name === chosen);
  if (backend === undefined) {
    throw new Error(`${TEST_STORE_VARIABLE} is "${chosen}"; it must be "disk" or "kv"`);
  }
  return [backend];
}

/** Runs the suite on each backend in turn; resolves the exit code. */
async function main(args: string[]): Promise<number> {
  const runs = backends();
  const failed: Backend[] = [];
  for (const [i, backend] of runs.entries()) {
    say(
      `\n=== Test run ${i + 1} of ${runs.length}: history backend ${backend} ` +
        `(${TEST_STORE_VARIABLE}=${backend}) ===\n\n`,
    );
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", ...args],
      env: { [TEST_STORE_VARIABLE]: backend },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) failed.push(backend);
  }
  say(
    failed.length === 0
      ? `\n=== Tests passed on the history backends: ${runs.join(", ")} ===\n`
      : `\n=== Tests failed on the history backends: ${failed.join(", ")} ===\n`,
  );
  return failed.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
