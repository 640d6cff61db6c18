/**
 * Runs the project's own entry files (verify/main.ts, rotate_key.ts,
 * export_history.ts ...) in a child process, as an operator or auditor would.
 */

/** The project's root folder, where the entry files live. */
const ROOT = new URL("../../", import.meta.url).pathname;

/** What a run of an entry file printed and how it exited. */
export interface VerifyRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A` with `args` (an entry file and its arguments) in the project's root. */
export async function script(args: string[], env?: Record<string, string>): Promise<VerifyRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs the project's verifier as an auditor would, in a child process. */
export async function runVerify(args: string[]): Promise<VerifyRun> {
  return await script(["verify/main.ts", ...args], { NO_COLOR: "1" });
}
