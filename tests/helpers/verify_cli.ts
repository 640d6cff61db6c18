/** The project's root folder, where verify/main.ts lives. */
const ROOT = new URL("../../", import.meta.url).pathname;

/** What a run of the verifier printed and how it exited. */
export interface VerifyRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the project's verifier as an auditor would, in a child process. */
export async function runVerify(args: string[]): Promise<VerifyRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "verify/main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
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
