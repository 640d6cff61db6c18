import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { createGitHttp } from "../routes/git_http.ts";
import { openDiskStore } from "../store/disk_store.ts";
import type { HistoryStore, Identity } from "../store/history.ts";
import type { PackLog } from "../store/pack_log.ts";
import { openPackLogFile, packLogPath } from "../store/pack_log_file.ts";
import { buildBigHistory } from "./helpers/big_history.ts";
import { git, run } from "./helpers/git.ts";
import { onlyOn } from "./helpers/test_store.ts";

// The pack log is a file beside the disk history; on KV the service keeps prepared entries in memory.

const COMMITTER: Identity = { name: "Akkoord", email: "history@akkoord.example" };
const AUTHOR: Identity = { name: "Test Auditor", email: "auditor@example.org" };
const NO_PROJECTION = { empty: () => null, wants: () => false, apply() {}, setHead() {} };
const STRICT = ["-c", "transfer.fsckObjects=true"];
const encoder = new TextEncoder();

/** The real store, counting the objects read from it: a rebuild reads thousands. */
interface CountedStore {
  store: HistoryStore<unknown>;
  reads(): number;
}

function counted(store: HistoryStore<unknown>): CountedStore {
  let reads = 0;
  const wrapper: HistoryStore<unknown> = {
    get state() {
      return store.state;
    },
    head: () => store.head(),
    transact: (decide) => store.transact(decide),
    readFile: (commit, path) => store.readFile(commit, path),
    readTreeFiles: (tree) => store.readTreeFiles(tree),
    log: (options) => store.log(options),
    readObject: (oid) => {
      reads++;
      return store.readObject(oid);
    },
    allowedSigners: () => store.allowedSigners(),
    onAppend: (listener) => store.onAppend(listener),
    close: () => store.close(),
  };
  return { store: wrapper, reads: () => reads };
}

/** The real file log, counting the bytes read from it. */
function countingLog(log: PackLog): PackLog & { bytesRead: number } {
  const counting = {
    bytesRead: 0,
    get size() {
      return log.size;
    },
    append: (bytes: Uint8Array) => log.append(bytes),
    read: async (offset: number, length: number, into?: Uint8Array) => {
      counting.bytesRead += length;
      return await log.read(offset, length, into);
    },
    truncate: (size: number) => log.truncate(size),
    close: () => log.close(),
  };
  return counting;
}

/** Opens the store and its pack log, serves them on 127.0.0.1, runs `work`, closes all. */
async function serving<T>(
  dir: string,
  work: (url: string, store: CountedStore, log: PackLog & { bytesRead: number }) => Promise<T>,
  logPath = packLogPath(dir),
): Promise<T> {
  const opened = await openDiskStore({ dir, projection: NO_PROJECTION, committer: COMMITTER });
  const log = countingLog(await openPackLogFile(logPath));
  const store = counted(opened);
  const app = new Hono();
  app.route(
    "/history.git",
    createGitHttp({ store: store.store, packLog: log, authenticate: () => Promise.resolve(true) }),
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    return await work(`http://127.0.0.1:${server.addr.port}/history.git`, store, log);
  } finally {
    await server.shutdown();
    await log.close();
    await opened.close();
  }
}

/** Clones bare, checks fsck --strict and that every object of the history arrived. */
async function cloneChecked(url: string, dir: string): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "akkoord-pack-cache-clone-" });
  try {
    await git([...STRICT, "clone", "--quiet", "--bare", url, `${work}/clone.git`]);
    await git(["--git-dir", `${work}/clone.git`, "fsck", "--strict", "--no-dangling"]);
    assert.deepEqual(
      await objectList(`${work}/clone.git`),
      await objectList(`${dir}/history.git`),
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

async function objectList(gitdir: string): Promise<string[]> {
  const listing = await git(["--git-dir", gitdir, "rev-list", "--objects", "HEAD"]);
  return listing.split("\n").filter((line) => line !== "").map((line) => line.slice(0, 40)).sort();
}

async function withHistory(
  events: number,
  work: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-pack-cache-" });
  try {
    await buildBigHistory({ dir, events, boards: 12, suppliers: 6, committer: COMMITTER });
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function digest(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

async function appendEvents(dir: string, count: number, label: string): Promise<void> {
  const store = await openDiskStore({ dir, projection: NO_PROJECTION, committer: COMMITTER });
  try {
    for (let n = 0; n < count; n++) {
      const path = `agreements/bestuur-00001/leverancier-0001/status.json`;
      const commit = {
        subject: `${label} ${n}`,
        trailers: [["Event", "review"]] as Array<[string, string]>,
        author: AUTHOR,
        at: new Date(Date.UTC(2026, 5, 1) + n * 1000),
        files: new Map([[path, encoder.encode(`${JSON.stringify({ label, n })}\n`)]]),
      };
      await store.transact(() => ({ commit, result: null }));
    }
  } finally {
    await store.close();
  }
}

Deno.test(
  onlyOn("disk", "a restart serves a clone from the pack log without preparing entries again"),
  async () => {
    await withHistory(150, async (dir) => {
      const path = packLogPath(dir);
      await serving(dir, async (url, store) => {
        await cloneChecked(url, dir);
        assert.ok(store.reads() > 151, `preparing read ${store.reads()} objects`);
      });
      const written = await digest(path);
      await serving(dir, async (url, store, log) => {
        await cloneChecked(url, dir);
        assert.ok(store.reads() < 20, `after a restart the clone read ${store.reads()} objects`);
        assert.ok(log.bytesRead >= log.size / 2, "the pack came from the log");
      });
      assert.equal(await digest(path), written, "the log was neither rebuilt nor extended");
    });
  },
);

Deno.test(
  onlyOn("disk", "a truncated or corrupted pack log is detected and rebuilt to the same bytes"),
  async () => {
    await withHistory(150, async (dir) => {
      const path = packLogPath(dir);
      await serving(dir, (url) => cloneChecked(url, dir));
      const original = await Deno.readFile(path);
      const damages: Array<[string, (bytes: Uint8Array) => Uint8Array]> = [
        ["cut in the middle of a record", (bytes) => bytes.slice(0, bytes.length - 777)],
        ["cut to half", (bytes) => bytes.slice(0, bytes.length >> 1)],
        ["a flipped byte in entry data", (bytes) => flipped(bytes, bytes.length >> 1)],
        ["a flipped byte in a record length", (bytes) => flipped(bytes, 12)],
        ["a wrong header", (bytes) => flipped(bytes, 0)],
        ["an empty file", () => new Uint8Array()],
      ];
      for (const [what, damage] of damages) {
        await Deno.writeFile(path, damage(original));
        await serving(dir, async (url, store) => {
          await cloneChecked(url, dir);
          assert.ok(store.reads() > 0, `${what}: the damaged part was prepared again`);
        });
        assert.deepEqual(await Deno.readFile(path), original, `${what}: rebuilt to the same bytes`);
      }
    });
  },
);

Deno.test(
  onlyOn("disk", "a pack log of a history the store no longer has is cut back to the store's head"),
  async () => {
    await withHistory(150, async (dir) => {
      const older = await Deno.makeTempDir({ prefix: "akkoord-pack-cache-older-" });
      try {
        await run("cp", ["-a", `${dir}/.`, older]);
        await appendEvents(dir, 5, "Newer");
        const log = `${older}/foreign.log`;
        await serving(dir, (url) => cloneChecked(url, dir), log);
        const longer = (await Deno.stat(log)).size;
        await appendEvents(older, 3, "Other");
        await serving(older, async (url) => {
          await cloneChecked(url, older);
          const fetched = await Deno.makeTempDir({ prefix: "akkoord-pack-cache-clone-" });
          try {
            await git([
              ...STRICT,
              "clone",
              "--quiet",
              "--bare",
              "--depth",
              "2",
              url,
              `${fetched}/c`,
            ]);
            await git(["--git-dir", `${fetched}/c`, "fsck", "--strict", "--no-dangling"]);
          } finally {
            await Deno.remove(fetched, { recursive: true });
          }
        }, log);
        assert.notEqual((await Deno.stat(log)).size, longer, "the other history's commits went");
      } finally {
        await Deno.remove(older, { recursive: true });
      }
    });
  },
);

Deno.test(
  onlyOn("disk", "a response body nobody reads stops the server reading the pack log"),
  async () => {
    await withHistory(3000, async (dir) => {
      const store = await openDiskStore({ dir, projection: NO_PROJECTION, committer: COMMITTER });
      const log = countingLog(await openPackLogFile(packLogPath(dir)));
      try {
        const app = new Hono();
        app.route(
          "/history.git",
          createGitHttp({ store, packLog: log, authenticate: () => Promise.resolve(true) }),
        );
        const request = () =>
          app.request("/history.git/git-upload-pack", {
            method: "POST",
            body: [
              pkt("command=fetch\n"),
              "0001",
              pkt(`want ${store.head()}\n`),
              pkt("done\n"),
              "0000",
            ]
              .join(""),
            headers: {
              "Content-Type": "application/x-git-upload-pack-request",
              "Git-Protocol": "version=2",
            },
          });
        const warm = await request();
        const pack = (await warm.arrayBuffer()).byteLength;
        const before = log.bytesRead;
        const reader = (await request()).body!.getReader();
        await reader.read();
        await new Promise((resolve) => setTimeout(resolve, 200));
        const whilePaused = log.bytesRead - before;
        let received = 0;
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          received += chunk.value.length;
        }
        const total = log.bytesRead - before;
        assert.ok(pack > 2 << 20, `the pack is ${pack} bytes`);
        assert.ok(whilePaused <= 1 << 20, `${whilePaused} bytes read before the client read on`);
        assert.ok(total > pack / 2 && received > pack / 2, `read ${total}, received ${received}`);
      } finally {
        await log.close();
        await store.close();
      }
    });
  },
);

function pkt(text: string): string {
  return (text.length + 4).toString(16).padStart(4, "0") + text;
}

function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] ?? 0) ^ 0x5a;
  return copy;
}
