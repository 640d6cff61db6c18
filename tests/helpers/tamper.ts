/**
 * Tampers with a copy of a history repository the way an attacker or a buggy
 * service could, using stock git and ssh-keygen only: rewrite, drop or forge
 * commits, sign them with other keys, or write new ones with the real key.
 */
import { git, run } from "./git.ts";

/** Who git records when the tests write commits. */
const IDENTITY_ENV = {
  GIT_AUTHOR_NAME: "Tamper",
  GIT_AUTHOR_EMAIL: "tamper@example.invalid",
  GIT_COMMITTER_NAME: "Akkoord",
  GIT_COMMITTER_EMAIL: "history@akkoord.invalid",
};

/** The commits of `main`, oldest first, each with its `Event` trailer. */
export async function events(gitDir: string): Promise<Array<{ oid: string; event: string }>> {
  const out = await git([
    "--git-dir",
    gitDir,
    "log",
    "--first-parent",
    "--reverse",
    "--format=%H %(trailers:key=Event,valueonly,separator=)",
  ]);
  return out.trim().split("\n").map((line) => {
    const [oid, event] = line.split(" ");
    return { oid: oid!, event: event ?? "" };
  });
}

/** The oid of the newest commit with this `Event` trailer (and whose message matches `also`). */
export async function lastEvent(gitDir: string, event: string, also?: RegExp): Promise<string> {
  for (const commit of (await events(gitDir)).reverse()) {
    if (commit.event !== event) continue;
    if (also === undefined || also.test(await commitText(gitDir, commit.oid))) return commit.oid;
  }
  throw new Error(`No "${event}" commit in ${gitDir}`);
}

/** A commit object's text, as `git cat-file commit` prints it. */
export async function commitText(gitDir: string, oid: string): Promise<string> {
  return await git(["--git-dir", gitDir, "cat-file", "commit", oid]);
}

/** The commit text without its `gpgsig` header. */
export function unsigned(text: string): string {
  const split = text.indexOf("\n\n");
  const headers = text.slice(0, split).split("\n");
  const kept: string[] = [];
  let inSignature = false;
  for (const line of headers) {
    if (line.startsWith(" ") && inSignature) continue;
    inSignature = line.startsWith("gpgsig ");
    if (!inSignature) kept.push(line);
  }
  return kept.join("\n") + text.slice(split);
}

/** The commit text with its parent replaced. */
export function withParent(text: string, parent: string): string {
  return text.replace(/^parent [0-9a-f]{40}$/m, `parent ${parent}`);
}

/** Writes a commit object, signed with the OpenSSH private key file `key` unless it is null. */
export async function writeCommit(gitDir: string, text: string, key: string | null) {
  const body = unsigned(text);
  const object = key === null ? body : await signedText(body, key);
  return (await git(["--git-dir", gitDir, "hash-object", "-t", "commit", "-w", "--stdin"], {
    stdin: object,
  })).trim();
}

/** Adds a `gpgsig` header made by `ssh-keygen -Y sign -n git` with `key` over the unsigned text. */
export async function signedText(text: string, key: string): Promise<string> {
  const signature = await run("ssh-keygen", ["-q", "-Y", "sign", "-n", "git", "-f", key], {
    stdin: text,
  });
  const header = "gpgsig " + signature.trimEnd().split("\n").join("\n ");
  const split = text.indexOf("\n\n");
  return text.slice(0, split) + "\n" + header + text.slice(split);
}

/**
 * Rewrites `main` from the commit `from` on: `edit` changes (or, returning
 * null, drops) that commit, and every later commit is written again on top
 * with the same tree and message, signed with `key` (null: unsigned).
 * Returns the new head; `main` points at it.
 */
export async function rewriteFrom(
  gitDir: string,
  options: { from: string; edit: (text: string) => string | null; key: string | null },
): Promise<string> {
  const chain = (await events(gitDir)).map((commit) => commit.oid);
  const start = chain.indexOf(options.from);
  if (start <= 0) throw new Error(`Cannot rewrite from ${options.from}: not a non-root commit`);
  let parent = chain[start - 1]!;
  for (const oid of chain.slice(start)) {
    const original = await commitText(gitDir, oid);
    const text = oid === options.from ? options.edit(original) : original;
    if (text === null) continue;
    parent = await writeCommit(gitDir, withParent(text, parent), options.key);
  }
  await setMain(gitDir, parent);
  return parent;
}

/** Points `main` at `oid`. */
export async function setMain(gitDir: string, oid: string): Promise<void> {
  await git(["--git-dir", gitDir, "update-ref", "refs/heads/main", oid]);
}

/** Makes a new Ed25519 key pair with ssh-keygen; returns the private key's path. */
export async function newSshKey(dir: string, name = "other_key"): Promise<string> {
  const path = `${dir}/${name}`;
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  return path;
}

/** The tree of `commit` with `files` (path to text) written over it, built in a temporary index. */
export async function treeWith(
  gitDir: string,
  commit: string,
  files: Record<string, string>,
): Promise<string> {
  const index = await Deno.makeTempFile({ prefix: "akkoord-index-" });
  const env = { GIT_INDEX_FILE: index };
  try {
    await git(["--git-dir", gitDir, "read-tree", commit], { env });
    for (const [path, text] of Object.entries(files)) {
      const blob = (await git(["--git-dir", gitDir, "hash-object", "-w", "--stdin"], {
        stdin: text,
      })).trim();
      await git([
        "--git-dir",
        gitDir,
        "update-index",
        "--add",
        "--cacheinfo",
        `100644,${blob},${path}`,
      ], { env });
    }
    return (await git(["--git-dir", gitDir, "write-tree"], { env })).trim();
  } finally {
    await Deno.remove(index);
  }
}

/**
 * Writes a commit with stock `git commit-tree -S`, signed as SSH with the
 * private key file `key`, dated `at` (default now), on top of `parent`.
 */
export async function commitTree(
  gitDir: string,
  options: { tree: string; parent: string; message: string; key: string; at?: Date },
): Promise<string> {
  const date: Record<string, string> = {};
  if (options.at !== undefined) {
    const stamp = `@${Math.floor(options.at.getTime() / 1000)} +0000`;
    date.GIT_AUTHOR_DATE = stamp;
    date.GIT_COMMITTER_DATE = stamp;
  }
  return (await git([
    "--git-dir",
    gitDir,
    "-c",
    "gpg.format=ssh",
    "-c",
    `user.signingkey=${options.key}`,
    "commit-tree",
    options.tree,
    "-p",
    options.parent,
    "-S",
    "-F",
    "-",
  ], { stdin: options.message, env: { ...IDENTITY_ENV, ...date } })).trim();
}
