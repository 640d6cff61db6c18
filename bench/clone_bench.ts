/**
 * Clone and fetch through Akkoord's smart HTTP server against `git
 * http-backend` serving the same history (after `git gc`, as a real git
 * server would have it): a full `git clone --bare` and a `git fetch` of 100
 * new events, timed from the client, with the Akkoord server's memory.
 *
 * The history: 50,000 signed events over 600 boards × 100 suppliers in the
 * product's layout (agreements/<board>/<supplier>/status.json, ...).
 *
 * Run: npx -y deno@2.9.6 task bench:clone (not part of `deno task bench`: it builds a
 * 50,000-event history first, which takes minutes)
 * Environment: AKKOORD_BENCH_EVENTS (default 50000), AKKOORD_BENCH_DIR (keep
 * and reuse the built history there), AKKOORD_BENCH_ROUNDS (default 3),
 * AKKOORD_BENCH_COLD=1 (delete the server's pack log first, so that the
 * server prepares every pack entry again; by default a kept directory
 * reuses the log of the previous run, as a restarted server does).
 * With `--serve <dir>` the script is the Akkoord server process it starts.
 */
import { Hono } from "hono";
import { createGitHttp } from "../routes/git_http.ts";
import { openDiskStore } from "../store/disk_store.ts";
import type { Identity } from "../store/history.ts";
import { PackCache } from "../store/pack_cache.ts";
import { openPackLogFile, packLogPath } from "../store/pack_log_file.ts";
import { buildBigHistory } from "../tests/helpers/big_history.ts";

const COMMITTER: Identity = { name: "Akkoord", email: "history@akkoord.example" };
const BOARDS = 600;
const SUPPLIERS = 100;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

if (Deno.args[0] === "--serve") await serveAkkoord(Deno.args[1] ?? "");
else await main();

async function main(): Promise<void> {
  const events = Number(Deno.env.get("AKKOORD_BENCH_EVENTS") ?? 50_000);
  const rounds = Number(Deno.env.get("AKKOORD_BENCH_ROUNDS") ?? 3);
  const kept = Deno.env.get("AKKOORD_BENCH_DIR");
  const root = kept ?? await Deno.makeTempDir({ prefix: "akkoord-clone-bench-" });
  const dataDir = `${root}/data`;
  const compare = `${root}/compare/history.git`;
  try {
    if (!await exists(`${dataDir}/history.git/refs/heads/main`)) {
      const started = performance.now();
      await buildBigHistory({
        dir: dataDir,
        events,
        boards: BOARDS,
        suppliers: SUPPLIERS,
        committer: COMMITTER,
      });
      report(`built ${events} events in ${seconds(started)}`);
    }
    if (!await exists(compare)) {
      const started = performance.now();
      await git(["clone", "--quiet", "--mirror", "--no-local", `${dataDir}/history.git`, compare]);
      await git(["--git-dir", compare, "gc", "--quiet"]);
      report(`prepared the git http-backend copy (clone --mirror, gc) in ${seconds(started)}`);
    }
    await git([
      "--git-dir",
      compare,
      "fetch",
      "--quiet",
      `${dataDir}/history.git`,
      "+refs/heads/main:refs/heads/main",
    ]);
    if (Deno.env.get("AKKOORD_BENCH_COLD") === "1") {
      await Deno.remove(packLogPath(dataDir)).catch(() => undefined);
    }
    const akkoord = await startAkkoord(dataDir);
    const backend = serveHttpBackend(`${root}/compare`);
    try {
      report(
        `Akkoord server: store opened with rss ${akkoord.opened.rss} MB, VmHWM ${akkoord.opened.hwm} MB`,
      );
      report(
        `Akkoord server ready: pack entries ${
          akkoord.opened.logBytes > 0 ? "read back from the log and completed" : "prepared"
        } in ${
          akkoord.warmSeconds.toFixed(1)
        } s, rss ${akkoord.rss()} MB, lifetime peak (VmHWM) ${akkoord.hwm()} MB, heap ${
          heapText(await akkoord.heap(false))
        }`,
      );
      const clones: Record<"akkoord" | "git", number[]> = { akkoord: [], git: [] };
      let peak = 0;
      for (let round = 0; round < rounds; round++) {
        for (const side of ["git", "akkoord"] as const) {
          const url = side === "git" ? `${backend.url}/history.git` : akkoord.url;
          const target = `${root}/clients/${side}-${round}.git`;
          await Deno.remove(target, { recursive: true }).catch(() => undefined);
          const sampler = side === "akkoord" ? sampleRss(akkoord.pid) : null;
          const started = performance.now();
          await git(["clone", "--quiet", "--bare", url, target]);
          clones[side].push((performance.now() - started) / 1000);
          if (sampler !== null) peak = Math.max(peak, await sampler.stop());
        }
      }
      const live = await akkoord.heap(true);
      const packs = {
        git: await packSize(`${root}/clients/git-0.git`),
        akkoord: await packSize(`${root}/clients/akkoord-0.git`),
      };
      await akkoord.append(100);
      await git([
        "--git-dir",
        compare,
        "fetch",
        "--quiet",
        `${dataDir}/history.git`,
        "+refs/heads/main:refs/heads/main",
      ]);
      const fetches: Record<"akkoord" | "git", number> = { akkoord: 0, git: 0 };
      for (const side of ["git", "akkoord"] as const) {
        const started = performance.now();
        await git([
          "--git-dir",
          `${root}/clients/${side}-0.git`,
          "fetch",
          "--quiet",
          "origin",
          "+refs/heads/*:refs/heads/*",
        ]);
        fetches[side] = (performance.now() - started) / 1000;
      }
      const akkoordClone = median(clones.akkoord);
      const gitClone = median(clones.git);
      report("");
      report(`history: ${events} events, ${BOARDS} boards × ${SUPPLIERS} suppliers`);
      report(
        `full clone, git http-backend: ${gitClone.toFixed(2)} s (runs ${list(clones.git)}), pack ${
          mb(packs.git)
        }`,
      );
      report(
        `full clone, Akkoord:          ${akkoordClone.toFixed(2)} s (runs ${
          list(clones.akkoord)
        }), pack ${mb(packs.akkoord)}`,
      );
      report(`ratio Akkoord / git: ${(akkoordClone / gitClone).toFixed(2)}`);
      report(
        `fetch of 100 events, git http-backend: ${fetches.git.toFixed(2)} s, Akkoord: ${
          fetches.akkoord.toFixed(2)
        } s`,
      );
      report(
        `Akkoord server memory: peak rss during clones ${peak} MB, lifetime peak (VmHWM) ${akkoord.hwm()} MB`,
      );
      report(`Akkoord server live heap after the clones (after gc): ${heapText(live)}`);
    } finally {
      await backend.close();
      await akkoord.close();
    }
  } finally {
    if (kept === undefined) await Deno.remove(root, { recursive: true });
    else await Deno.remove(`${root}/clients`, { recursive: true }).catch(() => undefined);
  }
}

/** Heap figures of the server process in MB. */
interface HeapFigures {
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** Bytes of the pack log (on disk, not in memory). */
  logBytes: number;
}

interface AkkoordProcess {
  url: string;
  pid: number;
  warmSeconds: number;
  /** Memory once the store was open, before the pack cache; log size found then (bytes). */
  opened: { rss: number; hwm: number; logBytes: number };
  rss(): number;
  hwm(): number;
  /** The server's heap figures; after a full garbage collection when `collect`. */
  heap(collect: boolean): Promise<HeapFigures>;
  append(count: number): Promise<void>;
  close(): Promise<void>;
}

async function startAkkoord(dataDir: string): Promise<AkkoordProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--serve",
      dataDir,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await lines.read();
    if (done) throw new Error("The Akkoord bench server exited before it was ready");
    text += value;
  }
  const ready = JSON.parse(text.slice(0, text.indexOf("\n"))) as {
    port: number;
    warmSeconds: number;
    opened: { rss: number; hwm: number; logBytes: number };
  };
  const base = `http://127.0.0.1:${ready.port}`;
  return {
    url: `${base}/history.git`,
    pid: child.pid,
    warmSeconds: ready.warmSeconds,
    opened: ready.opened,
    rss: () => procStatus(child.pid, "VmRSS"),
    hwm: () => procStatus(child.pid, "VmHWM"),
    async heap(collect: boolean) {
      const response = await fetch(`${base}/bench/memory?gc=${collect ? 1 : 0}`);
      if (!response.ok) throw new Error(`Reading memory failed: ${await response.text()}`);
      return await response.json() as HeapFigures;
    },
    async append(count: number) {
      const response = await fetch(`${base}/bench/append?count=${count}`, { method: "POST" });
      if (!response.ok) throw new Error(`Appending failed: ${await response.text()}`);
      await response.body?.cancel();
    },
    async close() {
      child.kill("SIGTERM");
      await lines.cancel();
      await child.status;
    },
  };
}

/** The server process: the store, warm pack entries, the git routes and an append door. */
async function serveAkkoord(dataDir: string): Promise<void> {
  const store = await openDiskStore({
    dir: dataDir,
    projection: { empty: () => null, wants: () => false, apply() {}, setHead() {} },
    committer: COMMITTER,
  });
  const log = await openPackLogFile(packLogPath(dataDir));
  const opened = {
    rss: procStatus(Deno.pid, "VmRSS"),
    hwm: procStatus(Deno.pid, "VmHWM"),
    logBytes: log.size,
  };
  const started = performance.now();
  const cache = new PackCache(store, { log });
  await cache.sync(store.head());
  const warmSeconds = (performance.now() - started) / 1000;
  const app = new Hono();
  app.route(
    "/history.git",
    createGitHttp({ store, cache, warm: true, authenticate: () => Promise.resolve(true) }),
  );
  app.get("/bench/memory", (c) => {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (c.req.query("gc") === "1") collect?.();
    const usage = Deno.memoryUsage();
    const figures: HeapFigures = {
      heapUsed: Math.round(usage.heapUsed / 2 ** 20),
      heapTotal: Math.round(usage.heapTotal / 2 ** 20),
      external: Math.round(usage.external / 2 ** 20),
      logBytes: Math.round(cache.logBytes / 2 ** 20),
    };
    return c.json(figures);
  });
  let sequence = 0;
  app.post("/bench/append", async (c) => {
    const count = Number(c.req.query("count") ?? 1);
    for (let i = 0; i < count; i++) {
      const n = sequence++;
      const path = `agreements/bestuur-${
        String((n * 7) % BOARDS).padStart(5, "0")
      }/leverancier-0001/status.json`;
      const commit = {
        subject: `Bench review ${n}`,
        trailers: [["Event", "review"]] as Array<[string, string]>,
        author: COMMITTER,
        at: new Date(Date.UTC(2027, 0, 1) + n * 1000),
        files: new Map([[
          path,
          encoder.encode(`${JSON.stringify({ bench: n, state: "approved" })}\n`),
        ]]),
      };
      await store.transact(() => ({ commit, result: null }));
    }
    return c.text("ok\n");
  });
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => {
      Deno.stdout.writeSync(
        encoder.encode(`${JSON.stringify({ port, warmSeconds, opened })}\n`),
      );
    },
  }, app.fetch);
  Deno.addSignalListener("SIGTERM", () => {
    void Promise.all([store.close(), log.close()]).finally(() => Deno.exit(0));
  });
}

/** `git http-backend` as a CGI behind a small HTTP server, its output streamed. */
function serveHttpBackend(projectRoot: string): { url: string; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const child = new Deno.Command("git", {
      args: ["http-backend"],
      env: {
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        REQUEST_METHOD: request.method,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers.get("Content-Type") ?? "",
        GIT_PROTOCOL: request.headers.get("Git-Protocol") ?? "",
        HTTP_CONTENT_ENCODING: request.headers.get("Content-Encoding") ?? "",
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    if (request.body === null) await child.stdin.close();
    else void request.body.pipeTo(child.stdin).catch(() => undefined);
    return await cgiResponse(child.stdout);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

async function cgiResponse(stdout: ReadableStream<Uint8Array>): Promise<Response> {
  const reader = stdout.getReader();
  let head = new Uint8Array();
  let end = -1;
  while (end < 0) {
    const { done, value } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(head.length + value.length);
    joined.set(head);
    joined.set(value, head.length);
    head = joined;
    end = decoder.decode(head.subarray(0, Math.min(head.length, 8192))).indexOf("\r\n\r\n");
  }
  const headerText = decoder.decode(head.subarray(0, Math.max(end, 0)));
  const headerBytes = encoder.encode(headerText).length + 4;
  const headers = new Headers();
  let status = 200;
  for (const line of headerText.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = parseInt(value, 10);
    else headers.set(name, value);
  }
  const rest = head.subarray(headerBytes);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length > 0) controller.enqueue(rest);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: () => reader.cancel(),
  });
  return new Response(body, { status, headers });
}

function sampleRss(pid: number): { stop(): Promise<number> } {
  let peak = procStatus(pid, "VmRSS");
  const timer = setInterval(() => {
    peak = Math.max(peak, procStatus(pid, "VmRSS"));
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Promise.resolve(Math.max(peak, procStatus(pid, "VmRSS")));
    },
  };
}

/** A memory figure of a process in MB from /proc/<pid>/status. */
function procStatus(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function packSize(gitdir: string): Promise<number> {
  let size = 0;
  for await (const entry of Deno.readDir(`${gitdir}/objects/pack`)) {
    if (entry.name.endsWith(".pack")) {
      size += (await Deno.stat(`${gitdir}/objects/pack/${entry.name}`)).size;
    }
  }
  return size;
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function heapText(figures: HeapFigures): string {
  return `used ${figures.heapUsed} MB of ${figures.heapTotal} MB, external ${figures.external} MB, pack log ${figures.logBytes} MB on disk`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function list(values: number[]): string {
  return values.map((value) => value.toFixed(2)).join(", ");
}

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function report(line: string): void {
  Deno.stdout.writeSync(encoder.encode(`${line}\n`));
}
