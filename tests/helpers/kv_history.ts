/**
 * Shared steps of the Deno KV tests: the store tests' history opened on a KV
 * database, child processes that append to one KV file, and the export of a
 * KV history to disk checked with stock git.
 */
import assert from "node:assert/strict";
import type { HistoryStore } from "../../store/history.ts";
import { openKvStore } from "../../store/kv_store.ts";
import { generateSigningKey } from "../../store/signing_key.ts";
import type { SigningKey } from "../../store/sshsig.ts";
import { COMMITTER, filesProjection, type FilesState } from "./files_projection.ts";
import { git, sshVerifyCommit } from "./git.ts";
import { script } from "./verify_cli.ts";

/** Runs one of the project's entry files as an operator would (see tests/helpers/verify_cli.ts). */
export { script };

const ROOT = new URL("../../", import.meta.url).pathname;
const CHILD = new URL("../fixtures/kv_append_child.ts", import.meta.url).pathname;

/**
 * Opens the history on `kv` with the store tests' projection and committer,
 * signed with `signingKey`, or with a fresh key when none is given.
 */
export async function openFilesKvStore(
  kv: Deno.Kv,
  signingKey?: SigningKey,
): Promise<HistoryStore<FilesState>> {
  return await openKvStore({
    kv,
    projection: filesProjection(),
    committer: COMMITTER,
    signingKey: signingKey ?? (await generateSigningKey()).key,
  });
}

/** A child process appending events, with its output as lines. */
export interface Appender {
  child: Deno.ChildProcess;
  /** Lines after `ready`: the ids of acknowledged events. */
  lines: ReadableStreamDefaultReader<string>;
}

/** Starts an appender on the KV file `path` and waits until it is ready. */
export async function startAppender(
  path: string,
  writer: string,
  signingKey: string,
  count?: number,
): Promise<Appender> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, path, writer, ...(count === undefined ? [] : [String(count)])],
    cwd: ROOT,
    env: { AKKOORD_SIGNING_KEY: signingKey },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
    .getReader();
  const first = await lines.read();
  if (first.value !== "ready") {
    const stderr = await new Response(child.stderr).text();
    throw new Error(`Cannot run the KV append child: it said "${first.value}" ${stderr}`);
  }
  return { child, lines };
}

/** Every remaining line of an appender, until its output ends. */
export async function remainingLines(appender: Appender): Promise<string[]> {
  const lines: string[] = [];
  for (let line = await appender.lines.read(); !line.done; line = await appender.lines.read()) {
    lines.push(line.value);
  }
  return lines;
}

/** What an exported history holds. */
export interface ExportedHistory {
  gitdir: string;
  /** Commits, newest first. */
  commits: string[];
  /** The `Event-Id` trailer of each commit that has one, newest first. */
  eventIds: string[];
}

/**
 * Runs `export_history.ts` as an operator would, then checks the repository
 * with `git fsck --strict` and `git verify-commit` on every commit against
 * the keys/allowed_signers it holds.
 */
export async function exportAndVerify(
  kvPath: string,
  gitdir: string,
  options: { verifyCommits?: boolean } = {},
): Promise<ExportedHistory> {
  const exported = await script(["export_history.ts", gitdir, "--kv", kvPath]);
  assert.equal(exported.code, 0, exported.stderr);
  await git(["--git-dir", gitdir, "fsck", "--strict", "--no-dangling"]);
  const signers = `${gitdir}/allowed_signers.test`;
  await Deno.writeTextFile(
    signers,
    await git(["--git-dir", gitdir, "show", "HEAD:keys/allowed_signers"]),
  );
  const commits = (await git(["--git-dir", gitdir, "rev-list", "HEAD"])).trim().split("\n");
  for (const commit of options.verifyCommits === false ? [] : commits) {
    const stderr = await sshVerifyCommit(gitdir, signers, commit);
    assert.match(stderr, /Good "git" signature for akkoord@history with ED25519 key/);
  }
  const log = await git([
    "--git-dir",
    gitdir,
    "log",
    "--format=%(trailers:key=Event-Id,valueonly)",
  ]);
  const eventIds = log.split("\n").filter((line) => line !== "");
  return { gitdir, commits, eventIds };
}

function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (rest !== "") controller.enqueue(rest);
    },
  });
}
