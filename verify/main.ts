/**
 * The auditor's verifier: `deno task verify <path-or-url> [--since <oid>]
 * [--allowed-signers <file-or-url>] [--principal <name>] [--no-fsck]`.
 *
 * Needs only a clone of the history (or a bare repository, or a URL to clone)
 * and the published allowed_signers; trusts nothing the service says. Exits
 * 0 with a summary per board, 1 at the first violation, 2 when it cannot
 * start (bad arguments, no repository, unreadable allowed_signers).
 */
import { type AllowedSigner, parseAllowedSigners } from "./allowed_signers.ts";
import { checkCheckpoint, checkCommit, signatureViolation, summarise } from "./check_history.ts";
import type { Change } from "./loaded_commit.ts";
import { cloneBare, type FsckResult, Repository } from "./read_repository.ts";
import { emptyReplay, type Replay } from "./replay.ts";
import { verifyCommitSignature } from "./ssh_signature.ts";

/** The command line, parsed. */
export interface VerifyOptions {
  repository: string;
  since: string | null;
  allowedSigners: string | null;
  principal: string;
  fsck: boolean;
}

/** The principal the service signs as in allowed_signers. */
export const DEFAULT_PRINCIPAL = "akkoord@history";

const USAGE =
  "Usage: deno task verify <path-or-url> [--since <oid>] [--allowed-signers <file-or-url>] " +
  "[--principal <name>] [--no-fsck]";
const URL_PATTERN = /^[a-z][a-z0-9+.-]*:\/\//i;
const encoder = new TextEncoder();

/** Parses the arguments; throws with the usage line when they are wrong. */
export function parseArguments(args: string[]): VerifyOptions {
  const options: VerifyOptions = {
    repository: "",
    since: null,
    allowedSigners: null,
    principal: DEFAULT_PRINCIPAL,
    fsck: true,
  };
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const value = () => {
      const next = rest.shift();
      if (next === undefined) throw new Error(`${arg} needs a value. ${USAGE}`);
      return next;
    };
    if (arg === "--since") options.since = value();
    else if (arg === "--allowed-signers") options.allowedSigners = value();
    else if (arg === "--principal") options.principal = value();
    else if (arg === "--no-fsck") options.fsck = false;
    else if (arg.startsWith("-") || options.repository !== "") {
      throw new Error(`Unexpected argument "${arg}". ${USAGE}`);
    } else options.repository = arg;
  }
  if (options.repository === "") throw new Error(USAGE);
  if (options.since !== null && !/^[0-9a-fA-F]{40}$/.test(options.since)) {
    throw new Error(`--since needs a full commit oid of 40 hex digits, not "${options.since}"`);
  }
  return options;
}

/** Runs the verifier; resolves the exit code. */
export async function main(args: string[]): Promise<number> {
  let options: VerifyOptions;
  try {
    options = parseArguments(args);
  } catch (error) {
    printError(messageOf(error));
    return 2;
  }
  const clone = URL_PATTERN.test(options.repository)
    ? await cloneBare(options.repository).catch((error) => error as Error)
    : null;
  if (clone instanceof Error) {
    printError(`Cannot verify: ${clone.message}`);
    return 2;
  }
  try {
    return await verify(options, clone === null ? options.repository : `${clone}/history.git`);
  } finally {
    if (clone !== null) await Deno.remove(clone, { recursive: true });
  }
}

async function verify(options: VerifyOptions, path: string): Promise<number> {
  const started = performance.now();
  let repository: Repository;
  try {
    repository = await Repository.open(path);
  } catch (error) {
    printError(`Cannot verify: ${messageOf(error)}`);
    return 2;
  }
  const stopFsck = new AbortController();
  try {
    const head = await repository.head();
    const signers = await loadSigners(options, repository, head);
    if (signers === null) return 2;
    const fsck = options.fsck ? repository.fsck(stopFsck.signal) : null;
    fsck?.catch(() => undefined);
    const changes = repository.changes(head);
    changes.catch(() => undefined);
    const chain = await repository.firstParentChain(head);
    if (options.since !== null) checkCheckpoint(chain, options.since);
    const replay = await checkAll(repository, chain, await changes, signers.signers, options);
    const fsckResult = await fsck;
    if (fsckResult !== null && !fsckResult.ok) {
      throw new Error(`git fsck --strict found problems: ${fsckResult.output.slice(0, 2000)}`);
    }
    print(report({ options, path, chain, replay, source: signers.source, fsck: fsckResult }));
    print(`Verified in ${Math.round(performance.now() - started)} ms.\n`);
    return 0;
  } catch (error) {
    printError(`FAILED: ${messageOf(error)}`);
    return 1;
  } finally {
    stopFsck.abort();
    await repository.close();
  }
}

async function checkAll(
  repository: Repository,
  chain: string[],
  changes: Map<string, Change[]>,
  signers: AllowedSigner[],
  { principal }: VerifyOptions,
): Promise<Replay> {
  const replay = emptyReplay(principal);
  for await (const commits of repository.load(chain, changes)) {
    const checks = await Promise.all(
      commits.map((commit) => verifyCommitSignature(commit.object, { signers, principal })),
    );
    commits.forEach((commit, i) => {
      const check = checks[i]!;
      if (!check.ok) throw signatureViolation(replay, commit.object, check.reason);
      checkCommit(replay, commit, check);
    });
  }
  return replay;
}

async function loadSigners(
  options: VerifyOptions,
  repository: Repository,
  head: string,
): Promise<{ signers: AllowedSigner[]; source: string } | null> {
  const source = options.allowedSigners ?? `keys/allowed_signers at ${head} (in the repository)`;
  try {
    const text = await readSigners(options.allowedSigners, repository, head);
    const signers = parseAllowedSigners(text, source);
    if (signers.length === 0) throw new Error(`"${source}" lists no key`);
    if (options.allowedSigners === null) {
      printError(
        "Warning: no --allowed-signers given; using the repository's own keys/allowed_signers. " +
          "Compare it with the published one and with a copy you kept.",
      );
    }
    return { signers, source };
  } catch (error) {
    printError(`Cannot verify: ${messageOf(error)}`);
    return null;
  }
}

async function readSigners(
  location: string | null,
  repository: Repository,
  head: string,
): Promise<string> {
  if (location === null) {
    const content = await repository.readFile(head, "keys/allowed_signers");
    if (content === null) throw new Error(`the repository has no keys/allowed_signers at ${head}`);
    return new TextDecoder().decode(content);
  }
  if (!/^https?:\/\//i.test(location)) return await Deno.readTextFile(location);
  const response = await fetch(location);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`Cannot fetch allowed signers "${location}": HTTP ${response.status}`);
  }
  return await response.text();
}

function report(input: {
  options: VerifyOptions;
  path: string;
  chain: string[];
  replay: Replay;
  source: string;
  fsck: FsckResult | null;
}): string {
  const { options, chain, replay } = input;
  const events = [...replay.events].map(([kind, count]) => `${kind} ${count}`).join(", ");
  const lines = [
    `History ${options.repository} verified: ${chain.length} commits, one line from root ` +
    `${chain[0]} to HEAD ${chain.at(-1)}.`,
    `Signatures: all good, by ${replay.keys.size} key(s) (${[...replay.keys].join(", ")}) ` +
    `allowed for ${options.principal} by ${input.source}.`,
    `Events: ${events}.`,
    input.fsck === null ? "git fsck: skipped (--no-fsck)." : "git fsck --strict: clean.",
  ];
  if (options.since !== null) {
    const since = chain.length - 1 - chain.indexOf(options.since.toLowerCase());
    lines.push(`Checkpoint ${options.since} is on the chain; ${since} commits since.`);
  }
  lines.push("", boardTable(replay));
  return lines.join("\n") + "\n";
}

function boardTable(replay: Replay): string {
  const rows = summarise(replay);
  if (rows.length === 0) return "No board has events yet.";
  const header = ["Board", "Name", "Signed", "Waiting", "Rejected", "Withdrawn", "Events"];
  const body = rows.map((row) => [
    row.id,
    row.name.length > 48 ? row.name.slice(0, 47) + "…" : row.name,
    ...[row.signed, row.waiting, row.rejected, row.withdrawn, row.events].map(String),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((r) => r[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((cell, i) => i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join("  ")
      .trimEnd();
  return [format(header), ...body.map(format)].join("\n");
}

function print(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}

function printError(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text + "\n"));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
