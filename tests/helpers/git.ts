/**
 * Runs stock command-line tools (git, ssh-keygen) for tests.
 */

/** Options of {@link run}. */
export interface RunOptions {
  cwd?: string;
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
}

/** Runs `git` with `args`; resolves stdout, throws with stderr when git fails. */
export async function git(args: string[], options: RunOptions = {}): Promise<string> {
  return await run("git", args, options);
}

/**
 * `git verify-commit` of `commit` in the repository `gitDir` against the SSH
 * allowed_signers file `signers`; resolves what git reports (on stderr),
 * throws with it when the signature does not verify.
 */
export async function sshVerifyCommit(
  gitDir: string,
  signers: string,
  commit: string,
): Promise<string> {
  const { stderr } = await runCapture("git", [
    "--git-dir",
    gitDir,
    "-c",
    "gpg.format=ssh",
    "-c",
    `gpg.ssh.allowedSignersFile=${signers}`,
    "verify-commit",
    commit,
  ]);
  return stderr;
}

/** Runs a program; resolves stdout, throws with stderr on a non-zero exit. */
export async function run(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<string> {
  return (await runCapture(program, args, options)).stdout;
}

/** Runs a program; resolves stdout and stderr, throws with stderr on a non-zero exit. */
export async function runCapture(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: { GIT_CONFIG_NOSYSTEM: "1", HOME: "/nonexistent", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const bytes = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    await writer.write(bytes);
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `${program} ${args.join(" ")} failed (exit ${output.code}): ${decoder.decode(output.stderr)}`,
    );
  }
  return { stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}
