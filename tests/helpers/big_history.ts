/**
 * Builds a large history fast for tests and benchmarks: real SSH-signed
 * commits made with the store's own encoders (encodeObject, deflateObject,
 * signSshsig, identLine, formatMessage), in the product's layout, but with
 * trees kept as encoded entries and objects written as loose files without
 * fsync. The result is an ordinary data directory that `openDiskStore`
 * opens and appends to; `git fsck --strict` checks what it wrote.
 */
import {
  commitPayload,
  deflateObject,
  type EncodedObject,
  encodeObject,
  signedCommitText,
  utf8,
} from "../../store/git_objects.ts";
import { ensureBareRepository, MAIN_REF } from "../../store/bare_repository.ts";
import { loadOrCreateSigningKey } from "../../store/signing_key.ts";
import { allowedSignersLine, type SigningKey, signSshsig } from "../../store/sshsig.ts";
import { identLine } from "../../store/identity.ts";
import { formatMessage } from "../../store/commit_message.ts";
import { ALLOWED_SIGNERS_PATH } from "../../store/disk_store.ts";
import type { Identity } from "../../store/history.ts";

/** Options of {@link buildBigHistory}. */
export interface BigHistoryOptions {
  /** A data directory without a history yet. */
  dir: string;
  /** Events after the first commit (which registers boards and suppliers). */
  events: number;
  boards: number;
  suppliers: number;
  /** The committer the store will be opened with. */
  committer: Identity;
}

const AUTHOR: Identity = { name: "Historie Generator", email: "generator@akkoord.example" };
const START = Date.UTC(2025, 0, 6, 8, 0, 0);
const STATES = ["offered", "approved", "signed"] as const;

/** Writes the history and `refs/heads/main`; resolves the head oid. */
export async function buildBigHistory(options: BigHistoryOptions): Promise<string> {
  await Deno.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const key = await loadOrCreateSigningKey(`${options.dir}/signing_key`);
  const gitdir = `${options.dir}/history.git`;
  await ensureBareRepository(gitdir);
  try {
    await Deno.stat(`${gitdir}/${MAIN_REF}`);
    throw new Error(`Cannot build a history in "${options.dir}": it already has one`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const writer = new LooseWriter(`${gitdir}/objects`);
  const tree = new EncodedTree();
  const versions = new Map<string, number>();
  let head: string | null = null;
  for (let n = 0; n <= options.events; n++) {
    const event = n === 0 ? firstEvent(options, key) : agreementEvent(options, n, versions);
    const blobs: EncodedObject[] = [];
    for (const [path, content] of event.files) {
      const blob = encodeObject("blob", content);
      tree.setFile(path, blob.oid);
      blobs.push(blob);
    }
    const { root, trees } = tree.encode();
    const at = new Date(START + n * 60_000);
    const fields = {
      tree: root,
      parents: head === null ? [] : [head],
      author: identLine(AUTHOR, at),
      committer: identLine(options.committer, at),
      message: formatMessage(event.subject, event.trailers),
    };
    const signature = signSshsig(key, utf8(commitPayload(fields)));
    const commit = encodeObject("commit", utf8(signedCommitText(fields, signature)));
    for (const object of [...blobs, ...trees, commit]) writer.add(object);
    if (n % 256 === 0) await writer.flush();
    head = commit.oid;
  }
  await writer.flush();
  await Deno.writeTextFile(`${gitdir}/${MAIN_REF}`, `${head}\n`);
  return head as string;
}

interface Event {
  subject: string;
  trailers: Array<[string, string]>;
  files: Map<string, Uint8Array>;
}

function firstEvent(options: BigHistoryOptions, key: SigningKey): Event {
  const files = new Map<string, Uint8Array>();
  files.set("README.md", utf8("# Akkoord history\n\nEvery event is one signed commit.\n"));
  files.set(ALLOWED_SIGNERS_PATH, utf8(allowedSignersLine(key.publicKey)));
  for (let b = 0; b < options.boards; b++) {
    const json = { id: board(b), name: `Schoolbestuur ${b}`, kvk: String(40000000 + b) };
    files.set(`boards/${board(b)}.json`, utf8(`${JSON.stringify(json, null, 2)}\n`));
  }
  for (let s = 0; s < options.suppliers; s++) {
    const json = { id: supplier(s), name: `Leverancier ${s}`, kvk: String(60000000 + s) };
    files.set(`suppliers/${supplier(s)}.json`, utf8(`${JSON.stringify(json, null, 2)}\n`));
  }
  return { subject: "Register boards and suppliers", trailers: [["Event", "registry"]], files };
}

function agreementEvent(
  options: BigHistoryOptions,
  n: number,
  versions: Map<string, number>,
): Event {
  const pairs = options.boards * options.suppliers;
  const pair = Number((BigInt(n) * 2654435761n) % BigInt(pairs));
  const b = pair % options.boards;
  const s = Math.floor(pair / options.boards);
  const dir = `agreements/${board(b)}/${supplier(s)}`;
  const step = versions.get(dir) ?? 0;
  versions.set(dir, step + 1);
  const state = STATES[step % STATES.length] ?? "offered";
  const version = Math.floor(step / STATES.length) + 1;
  const files = new Map<string, Uint8Array>();
  const status = {
    board: board(b),
    supplier: supplier(s),
    version,
    state,
    at: new Date(START + n * 60_000).toISOString(),
    actor: `pseudoniem-${(n * 31) % 997}`,
    contentSha256: `${(n * 7919).toString(16).padStart(8, "0")}${"0".repeat(56)}`,
  };
  files.set(`${dir}/status.json`, utf8(`${JSON.stringify(status, null, 2)}\n`));
  if (state === "offered") files.set(`${dir}/agreement.md`, utf8(agreementText(s, version)));
  return {
    subject: `${state} ${dir} version ${version}`,
    trailers: [["Event", state], ["Agreement", dir], ["Version", String(version)]],
    files,
  };
}

function agreementText(s: number, version: number): string {
  const articles = Array.from(
    { length: 12 },
    (_, i) =>
      `## Artikel ${i + 1}\n\nLeverancier ${s} verwerkt persoonsgegevens uitsluitend in opdracht ` +
      `van het schoolbestuur (versie ${version}, bepaling ${i + 1}).\n`,
  );
  return `# Verwerkersovereenkomst ${supplier(s)}\n\n${articles.join("\n")}`;
}

function board(b: number): string {
  return `bestuur-${String(b).padStart(5, "0")}`;
}

function supplier(s: number): string {
  return `leverancier-${String(s).padStart(4, "0")}`;
}

interface Directory {
  /** Encoded entry (`<mode> <name>\0<oid>`) by name. */
  entries: Map<string, Uint8Array>;
  /** Names in Git's tree order, or null after a name was added. */
  order: string[] | null;
}

const encoder = new TextEncoder();
const HEX = new Map(Array.from({ length: 256 }, (_, i) => [i.toString(16).padStart(2, "0"), i]));

/** Directories as encoded entries; only directories on changed paths are encoded again. */
class EncodedTree {
  #directories = new Map<string, Directory>([["", { entries: new Map(), order: null }]]);
  #changed = new Set<string>([""]);

  setFile(path: string, oid: string): void {
    const slash = path.lastIndexOf("/");
    const directory = slash < 0 ? "" : path.slice(0, slash);
    this.#ensure(directory);
    this.#put(directory, path.slice(slash + 1), "100644", oid);
    for (let at = directory;; at = parentOf(at)) {
      this.#changed.add(at);
      if (at === "") break;
    }
  }

  /** Encodes changed directories, deepest first; returns the root tree and the new trees. */
  encode(): { root: string; trees: EncodedObject[] } {
    const trees: EncodedObject[] = [];
    const deepestFirst = [...this.#changed].sort((a, b) => depth(b) - depth(a));
    let root = "";
    for (const path of deepestFirst) {
      const directory = this.#directories.get(path) as Directory;
      directory.order ??= [...directory.entries.keys()].sort((a, b) =>
        sortKey(directory, a) < sortKey(directory, b) ? -1 : 1
      );
      const parts = directory.order.map((name) => directory.entries.get(name) as Uint8Array);
      const body = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        body.set(part, offset);
        offset += part.length;
      }
      const tree = encodeObject("tree", body);
      trees.push(tree);
      if (path === "") root = tree.oid;
      else this.#put(parentOf(path), path.slice(path.lastIndexOf("/") + 1), "40000", tree.oid);
    }
    this.#changed.clear();
    return { root, trees };
  }

  #ensure(path: string): void {
    if (this.#directories.has(path)) return;
    this.#ensure(parentOf(path));
    this.#directories.set(path, { entries: new Map(), order: null });
  }

  #put(directory: string, name: string, mode: string, oid: string): void {
    const entries = (this.#directories.get(directory) as Directory).entries;
    const head = encoder.encode(`${mode} ${name}\0`);
    const entry = new Uint8Array(head.length + 20);
    entry.set(head);
    for (let i = 0; i < 20; i++) entry[head.length + i] = HEX.get(oid.slice(2 * i, 2 * i + 2)) ?? 0;
    if (!entries.has(name)) (this.#directories.get(directory) as Directory).order = null;
    entries.set(name, entry);
  }
}

function sortKey(directory: Directory, name: string): string {
  const entry = directory.entries.get(name) as Uint8Array;
  return entry[0] === 0x34 ? `${name}/` : name;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function depth(path: string): number {
  return path === "" ? 0 : path.split("/").length;
}

/** Loose objects written with plain writes, many at a time: fast, not crash-safe. */
class LooseWriter {
  #objects: string;
  #fanOuts = new Set<string>();
  #pending: EncodedObject[] = [];

  constructor(objects: string) {
    this.#objects = objects;
  }

  add(object: EncodedObject): void {
    this.#pending.push(object);
  }

  async flush(): Promise<void> {
    const objects = this.#pending;
    this.#pending = [];
    let next = 0;
    const worker = async () => {
      while (next < objects.length) await this.#write(objects[next++] as EncodedObject);
    };
    await Promise.all(Array.from({ length: 32 }, worker));
  }

  async #write(object: EncodedObject): Promise<void> {
    const fanOut = object.oid.slice(0, 2);
    if (!this.#fanOuts.has(fanOut)) {
      Deno.mkdirSync(`${this.#objects}/${fanOut}`, { recursive: true });
      this.#fanOuts.add(fanOut);
    }
    const path = `${this.#objects}/${fanOut}/${object.oid.slice(2)}`;
    try {
      await Deno.writeFile(path, deflateObject(object), { createNew: true, mode: 0o444 });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}
