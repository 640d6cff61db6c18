/**
 * The disk store against the Deno KV store on a local database file, in one
 * run: signed appends per second (sequential, and concurrent as many
 * suppliers offering through the API at once), reads of a board's overview,
 * and a full clone of the same history served from each backend through
 * Akkoord's Git HTTP server to stock git.
 *
 * Each append does the work of an event: one status.json changed under
 * agreements/<board>/<supplier>/ in a tree of 600 boards × 5 suppliers
 * (1 blob, 4 trees, 1 SSH-signed commit, the ref moved with its old value
 * checked), durable when the append resolves. The stores run the service's
 * projection. The KV history starts as an import of the disk history, as a
 * move to KV would.
 *
 * Run: npx -y deno@2.9.6 bench -A bench/kv_bench.ts
 * After Deno's table a summary prints appends/s, reads and clone times per
 * backend with their ratios. Targets: at least 500 signed appends/s on KV;
 * a clone served from KV at most 1.5 times the time of the same clone served
 * from disk. AKKOORD_BENCH_CLONE_EVENTS (default 0) appends that many more
 * events before the clone comparison, for a larger history.
 */
import { Hono } from "hono";
import { createGitHttp } from "../routes/git_http.ts";
import { stateProjection } from "../domain/projection.ts";
import type { State } from "../domain/state.ts";
import { openDiskStore } from "../store/disk_store.ts";
import { openKvStore } from "../store/kv_store.ts";
import { importKvHistory } from "../store/kv_transfer.ts";
import { PackCache } from "../store/pack_cache.ts";
import { importOpenSshKey } from "../store/signing_key.ts";
import type { CommitRequest, HistoryStore, Identity } from "../store/history.ts";

const BOARDS = 600;
const SUPPLIERS = 5;
/** API clients appending at once in the concurrent runs, each its own supplier. */
const CLIENTS = 32;
/** Appends each client makes in one iteration of a concurrent run. */
const PER_CLIENT = 4;
const COMMITTER: Identity = { name: "Akkoord", email: "history@akkoord.example" };
const AUTHOR: Identity = { name: "Bench Supplier", email: "api@leverancier.example" };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Backend = "disk" | "KV";
type Measure =
  | "sequential append"
  | "concurrent append"
  | "overview from state"
  | "overview from history"
  | "clone, cold cache"
  | "clone, warm cache";
/** Seconds per unit of work (one append, one read, one clone) of each run. */
const samples = new Map<string, number[]>();

const root = await Deno.makeTempDir({ prefix: "akkoord-kv-bench-" });
const disk = await openDiskStore({
  dir: `${root}/store`,
  projection: stateProjection,
  committer: COMMITTER,
});
await disk.transact(() => ({ commit: seedRequest(), result: null }));
const key = await importOpenSshKey(
  "signing_key",
  await Deno.readTextFile(`${root}/store/signing_key`),
);
const kv = await Deno.openKv(`${root}/history.kv`);
await importKvHistory(kv, `${root}/store/history.git`);
const onKv = await openKvStore({
  kv,
  projection: stateProjection,
  committer: COMMITTER,
  signingKey: key,
});
const stores: Record<Backend, HistoryStore<State>> = { disk, KV: onKv };
let sequence = 0;
let clones: Record<Backend, CloneServer> | null = null;

globalThis.addEventListener("unload", () => {
  report();
  for (const server of Object.values(clones ?? {})) void server.close();
  kv.close();
  Deno.removeSync(root, { recursive: true });
});

for (const backend of ["disk", "KV"] as const) {
  Deno.bench({
    name: `${backend}: one append at a time`,
    group: "signed append, sequential",
    baseline: backend === "disk",
    n: 150,
    warmup: 10,
    async fn(b) {
      const commit = statusRequest(sequence++, 0);
      await timed(
        b,
        backend,
        "sequential append",
        () => stores[backend].transact(() => ({ commit, result: null })),
      );
    },
  });
}

for (const backend of ["disk", "KV"] as const) {
  Deno.bench({
    name: `${backend}: ${CLIENTS} clients × ${PER_CLIENT} appends`,
    group: `signed append, ${CLIENTS} concurrent clients`,
    baseline: backend === "disk",
    n: 4,
    warmup: 1,
    async fn(b) {
      const first = sequence;
      sequence += CLIENTS * PER_CLIENT;
      const clients = Array.from({ length: CLIENTS }, (_, client) => async () => {
        for (let i = 0; i < PER_CLIENT; i++) {
          const commit = statusRequest(first + i * CLIENTS + client, client);
          await stores[backend].transact(() => ({ commit, result: null }));
        }
      });
      await timed(b, backend, "concurrent append", async () => {
        await Promise.all(clients.map((client) => client()));
      }, CLIENTS * PER_CLIENT);
    },
  });
}

for (const backend of ["disk", "KV"] as const) {
  Deno.bench({
    name: `${backend}: a board's agreements from the projection`,
    group: "board overview, from state",
    baseline: backend === "disk",
    n: 2000,
    fn(b) {
      const board = boardId(sequence++ % BOARDS);
      b.start();
      const started = performance.now();
      const rows = overviewRows(stores[backend].state, board);
      const seconds = (performance.now() - started) / 1000;
      b.end();
      if (rows.length !== SUPPLIERS) throw new Error(`Board ${board} has ${rows.length} rows`);
      add(backend, "overview from state", seconds);
    },
  });
}

for (const backend of ["disk", "KV"] as const) {
  Deno.bench({
    name: `${backend}: a board's status files read from the history at head`,
    group: "board overview, from history",
    baseline: backend === "disk",
    n: 100,
    async fn(b) {
      const store = stores[backend];
      const board = boardId(sequence++ % BOARDS);
      const head = store.head() ?? "";
      const files = await timed(b, backend, "overview from history", () =>
        Promise.all(
          Array.from({ length: SUPPLIERS }, (_, s) => store.readFile(head, statusPath(board, s))),
        ));
      if (files.some((file) => file === null)) throw new Error(`Board ${board} misses a file`);
    },
  });
}

for (const cache of ["cold", "warm"] as const) {
  for (const backend of ["disk", "KV"] as const) {
    Deno.bench({
      name: `${backend}: git clone --bare, ${cache} pack cache`,
      group: `full clone, ${cache} pack cache`,
      baseline: backend === "disk",
      n: 3,
      warmup: 0,
      async fn(b) {
        clones ??= await startCloneServers();
        const server = clones[backend];
        if (cache === "cold") server.reset();
        else await server.warm();
        const target = `${root}/clients/${backend}-${crypto.randomUUID()}.git`;
        const measure = cache === "cold" ? "clone, cold cache" : "clone, warm cache";
        await timed(
          b,
          backend,
          measure,
          () => git(["clone", "--quiet", "--bare", server.url, target]),
        );
        await Deno.remove(target, { recursive: true });
      },
    });
  }
}

/** A Git HTTP server on 127.0.0.1 serving one store, with a pack cache it can drop. */
interface CloneServer {
  url: string;
  /** Drops prepared pack entries: the next clone reads every object from the backend. */
  reset(): void;
  warm(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the disk history and a fresh KV import of exactly that history, so
 * both sides clone the same commits.
 */
async function startCloneServers(): Promise<Record<Backend, CloneServer>> {
  const extra = Number(Deno.env.get("AKKOORD_BENCH_CLONE_EVENTS") ?? 0);
  for (let i = 0; i < extra; i += CLIENTS) {
    const first = sequence;
    sequence += CLIENTS;
    await Promise.all(Array.from({ length: CLIENTS }, (_, client) => {
      const commit = statusRequest(first + client, client);
      return disk.transact(() => ({ commit, result: null }));
    }));
  }
  const cloneKv = await Deno.openKv(`${root}/clone.kv`);
  await importKvHistory(cloneKv, `${root}/store/history.git`);
  const kvCopy = await openKvStore({
    kv: cloneKv,
    projection: stateProjection,
    committer: COMMITTER,
    signingKey: key,
    ownsKv: true,
  });
  if (kvCopy.head() !== disk.head()) throw new Error("The KV copy has another head than disk");
  return { disk: serveClones(disk, null), KV: serveClones(kvCopy, kvCopy) };
}

function serveClones(store: HistoryStore<State>, owned: HistoryStore<State> | null): CloneServer {
  let cache = new PackCache(store);
  let app = gitApp(store, cache);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => app.fetch(request),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/history.git`,
    reset() {
      cache = new PackCache(store);
      app = gitApp(store, cache);
    },
    warm: () => cache.sync(store.head()),
    async close() {
      await server.shutdown();
      await owned?.close();
    },
  };
}

function gitApp(store: HistoryStore<State>, cache: PackCache): Hono {
  const app = new Hono();
  app.route(
    "/history.git",
    createGitHttp({ store, cache, authenticate: () => Promise.resolve(true) }),
  );
  return app;
}

/** The rows GET /boards/<id> selects from the state before rendering, sorted by supplier. */
function overviewRows(state: State, board: string) {
  return [...state.agreements.values()]
    .filter((status) => status.board === board)
    .sort((a, b) => a.supplier.localeCompare(b.supplier, "nl"));
}

/**
 * Runs `work` as the measured part of a bench iteration and records its
 * seconds per unit of work done.
 */
async function timed<T>(
  b: Deno.BenchContext,
  backend: Backend,
  measure: Measure,
  work: () => Promise<T>,
  units = 1,
): Promise<T> {
  b.start();
  const started = performance.now();
  const value = await work();
  const seconds = (performance.now() - started) / 1000;
  b.end();
  add(backend, measure, seconds / units);
  return value;
}

function add(backend: Backend, measure: Measure, seconds: number): void {
  const name = `${backend} ${measure}`;
  samples.set(name, [...(samples.get(name) ?? []), seconds]);
}

function report(): void {
  const lines = ["", "Akkoord store benchmark (medians; local KV is a SQLite file)"];
  const rate = (measure: Measure) => {
    const disk = 1 / median("disk", measure);
    const kv = 1 / median("KV", measure);
    lines.push(
      `${measure.padEnd(22)} disk ${fixed(disk)}/s  KV ${fixed(kv)}/s  KV/disk ${ratio(kv / disk)}`,
    );
  };
  const time = (measure: Measure) => {
    const disk = median("disk", measure);
    const kv = median("KV", measure);
    lines.push(
      `${measure.padEnd(22)} disk ${ms(disk)}  KV ${ms(kv)}  KV/disk time ${ratio(kv / disk)}`,
    );
  };
  rate("sequential append");
  rate("concurrent append");
  lines.push(`  (concurrent: ${CLIENTS} clients, each appending its next event once acknowledged)`);
  time("overview from state");
  time("overview from history");
  time("clone, cold cache");
  time("clone, warm cache");
  lines.push("  (clone: git clone --bare of the same history through Akkoord's Git HTTP server;");
  lines.push("   cold: pack entries prepared from the backend's objects during the clone)");
  Deno.stdout.writeSync(encoder.encode(lines.join("\n") + "\n"));
}

function median(backend: Backend, measure: Measure): number {
  const values = [...(samples.get(`${backend} ${measure}`) ?? [])].sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? NaN;
}

function fixed(value: number): string {
  return value.toFixed(0).padStart(6);
}

function ms(seconds: number): string {
  return `${(seconds * 1000).toFixed(seconds < 0.001 ? 3 : 1).padStart(8)} ms`;
}

function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

function boardId(n: number): string {
  return String(n + 1).padStart(5, "0");
}

function supplierId(n: number): string {
  return String(10_000_001 + n).padStart(8, "0");
}

function statusPath(board: string, supplier: number): string {
  return `agreements/${board}/${supplierId(supplier)}/status.json`;
}

/** Event `n`: a supplier offers version `n` of an agreement to one board. */
function statusRequest(n: number, client: number): CommitRequest {
  const board = boardId((n * 7919) % BOARDS);
  const supplier = client % SUPPLIERS;
  return {
    subject: `Offer ${n}`,
    trailers: [["Event", "offered"], ["Version", String(n)]],
    author: AUTHOR,
    at: new Date(Date.UTC(2025, 0, 1) + n * 1000),
    files: new Map([[statusPath(board, supplier), statusContent(board, supplier, n)]]),
  };
}

function statusContent(board: string, supplier: number, version: number): Uint8Array {
  return encoder.encode(`${
    JSON.stringify({
      board,
      supplier: supplierId(supplier),
      state: "offered",
      current: { version, offeredAt: new Date(Date.UTC(2025, 0, 1)).toISOString(), products: [] },
      history: [],
    })
  }\n`);
}

function seedRequest(): CommitRequest {
  const files = new Map<string, Uint8Array>();
  for (let board = 0; board < BOARDS; board++) {
    for (let supplier = 0; supplier < SUPPLIERS; supplier++) {
      files.set(
        statusPath(boardId(board), supplier),
        statusContent(boardId(board), supplier, 0),
      );
    }
  }
  return {
    subject: "Seed",
    trailers: [],
    author: AUTHOR,
    at: new Date(Date.UTC(2025, 0, 1)),
    files,
  };
}

async function git(args: string[]): Promise<void> {
  const output = await new Deno.Command("git", {
    args,
    env: { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", HOME: "/nonexistent" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`git ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`);
  }
}
