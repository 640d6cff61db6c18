/**
 * Signed appends per second: the disk store against a native git loop doing
 * the same work (one small status.json changed per commit under
 * agreements/<board>/<supplier>/ in a tree of 600 boards × 5 suppliers:
 * 1 blob, 4 trees, 1 SSH-signed commit, the ref moved with its old value
 * checked). Both write durably: git runs with `core.fsync=committed`.
 *
 * Run: npx -y deno@2.9.6 bench -A bench/
 * Deno's summary prints how many times faster the store is than git.
 */
import { openDiskStore } from "../store/disk_store.ts";
import type { CommitRequest, Identity } from "../store/history.ts";

const BOARDS = 600;
const SUPPLIERS = 5;
const COMMITTER: Identity = { name: "Akkoord", email: "history@akkoord.example" };
const AUTHOR: Identity = { name: "Bench Reviewer", email: "reviewer@example.org" };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const root = await Deno.makeTempDir({ prefix: "akkoord-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

const store = await openDiskStore({
  dir: `${root}/store`,
  projection: { empty: () => null, wants: () => false, apply() {}, setHead() {} },
  committer: COMMITTER,
});
await store.transact(() => ({ commit: seedRequest(), result: null }));
const nativeRepo = `${root}/native.git`;
await runGit(["clone", "--quiet", "--bare", `${root}/store/history.git`, nativeRepo]);
const nativeTree = await loadTree(nativeRepo);
let nativeHead = (await runGit(["--git-dir", nativeRepo, "rev-parse", "HEAD"])).trim();
let sequence = 0;

Deno.bench({
  name: "native git loop (hash-object, mktree, commit-tree -S, update-ref)",
  group: "signed append",
  baseline: true,
  n: 60,
  warmup: 3,
  async fn() {
    await nativeAppend(sequence++);
  },
});

Deno.bench({
  name: "disk store transact",
  group: "signed append",
  n: 600,
  warmup: 20,
  async fn() {
    const commit = statusRequest(sequence++);
    await store.transact(() => ({ commit, result: null }));
  },
});

function statusPath(n: number): [string, string, string] {
  const board = `bestuur-${(n * 7919) % BOARDS}`;
  const supplier = `leverancier-${n % SUPPLIERS}`;
  return [board, supplier, `agreements/${board}/${supplier}/status.json`];
}

function statusContent(n: number): string {
  return `${JSON.stringify({ version: n, state: "offered", at: n })}\n`;
}

function at(n: number): Date {
  return new Date(Date.UTC(2025, 0, 1) + n * 1000);
}

function statusRequest(n: number): CommitRequest {
  const [, , path] = statusPath(n);
  return {
    subject: `Review ${n}`,
    trailers: [["Event", "review"], ["Version", String(n)]],
    author: AUTHOR,
    at: at(n),
    files: new Map([[path, encoder.encode(statusContent(n))]]),
  };
}

function seedRequest(): CommitRequest {
  const files = new Map<string, Uint8Array>();
  for (let board = 0; board < BOARDS; board++) {
    for (let supplier = 0; supplier < SUPPLIERS; supplier++) {
      const path = `agreements/bestuur-${board}/leverancier-${supplier}/status.json`;
      files.set(path, encoder.encode(`{"board":${board},"supplier":${supplier}}\n`));
    }
  }
  return { subject: "Seed", trailers: [], author: AUTHOR, at: at(0), files };
}

interface NativeEntry {
  mode: string;
  type: string;
  oid: string;
}

async function loadTree(repo: string): Promise<Map<string, Map<string, NativeEntry>>> {
  const tree = new Map<string, Map<string, NativeEntry>>([["", new Map()]]);
  const listing = await runGit(["--git-dir", repo, "ls-tree", "-r", "-t", "HEAD"]);
  for (const line of listing.split("\n").filter((row) => row !== "")) {
    const [meta = "", path = ""] = line.split("\t");
    const [mode = "", type = "", oid = ""] = meta.split(" ");
    const slash = path.lastIndexOf("/");
    const directory = slash < 0 ? "" : path.slice(0, slash);
    if (!tree.has(directory)) tree.set(directory, new Map());
    tree.get(directory)?.set(path.slice(slash + 1), { mode, type, oid });
    if (type === "tree" && !tree.has(path)) tree.set(path, new Map());
  }
  return tree;
}

async function nativeAppend(n: number): Promise<void> {
  const [board, supplier] = statusPath(n);
  const blob = await runGit(["--git-dir", nativeRepo, "hash-object", "-w", "--stdin"], {
    stdin: statusContent(n),
  });
  let child: [string, NativeEntry] = ["status.json", { mode: "100644", type: "blob", oid: blob }];
  for (
    const directory of [`agreements/${board}/${supplier}`, `agreements/${board}`, "agreements", ""]
  ) {
    const entries = nativeTree.get(directory) ?? new Map<string, NativeEntry>();
    entries.set(child[0], child[1]);
    nativeTree.set(directory, entries);
    const lines = [...entries].map(([name, e]) => `${e.mode} ${e.type} ${e.oid}\t${name}\n`);
    const oid = await runGit(["--git-dir", nativeRepo, "mktree"], { stdin: lines.join("") });
    child = [directory.slice(directory.lastIndexOf("/") + 1), {
      mode: "040000",
      type: "tree",
      oid,
    }];
  }
  const date = `${Math.floor(at(n).getTime() / 1000)} +0000`;
  const commit = await runGit([
    "--git-dir",
    nativeRepo,
    "-c",
    "gpg.format=ssh",
    "-c",
    `user.signingkey=${root}/store/signing_key`,
    "commit-tree",
    "-S",
    "-p",
    nativeHead,
    child[1].oid,
  ], {
    stdin: `Review ${n}\n\nEvent: review\nVersion: ${n}\n`,
    env: {
      GIT_AUTHOR_NAME: AUTHOR.name,
      GIT_AUTHOR_EMAIL: AUTHOR.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: COMMITTER.name,
      GIT_COMMITTER_EMAIL: COMMITTER.email,
      GIT_COMMITTER_DATE: date,
    },
  });
  await runGit(["--git-dir", nativeRepo, "update-ref", "refs/heads/main", commit, nativeHead]);
  nativeHead = commit;
}

async function runGit(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const child = new Deno.Command("git", {
    args: ["-c", "core.fsync=committed", ...args],
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  if (!output.success) {
    throw new Error(`git ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`);
  }
  return decoder.decode(output.stdout).trim();
}
