import assert from "node:assert/strict";
import { Hono } from "hono";
import { createGitHttp, type GitHttpLimits } from "../routes/git_http.ts";
import type { CommitRequest, HistoryStore, Identity } from "../store/history.ts";
import { git, runCapture } from "./helpers/git.ts";
import { buildBigHistory } from "./helpers/big_history.ts";
import { applyDelta, encodeDelta } from "../store/delta.ts";
import { historyGitDir, openTestStore } from "./helpers/test_store.ts";

const COMMITTER: Identity = { name: "Akkoord", email: "history@akkoord.example" };
const AUTHOR: Identity = { name: "Test Auditor", email: "auditor@example.org" };
const PASSWORD = "correct horse battery staple";
const STRICT = ["-c", "transfer.fsckObjects=true"];
const V0 = ["-c", "protocol.version=0"];
const encoder = new TextEncoder();
const NO_PROJECTION = { empty: () => null, wants: () => false, apply() {}, setHead() {} };

interface Served {
  /** Repository URL with the password in it. */
  url: string;
  /** Repository URL without credentials. */
  bare: string;
  close(): Promise<void>;
}

function serve(store: HistoryStore<unknown>, limits?: Partial<GitHttpLimits>): Served {
  const app = new Hono();
  app.route(
    "/history.git",
    createGitHttp({ store, limits, authenticate: (c) => Promise.resolve(hasPassword(c.req.raw)) }),
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const base = `127.0.0.1:${server.addr.port}/history.git`;
  return {
    url: `http://auditor:${encodeURIComponent(PASSWORD)}@${base}`,
    bare: `http://${base}`,
    close: () => server.shutdown(),
  };
}

function hasPassword(request: Request): boolean {
  const header = request.headers.get("Authorization") ?? "";
  if (!header.startsWith("Basic ")) return false;
  const [, password] = atob(header.slice(6)).split(/:(.*)/s);
  return password === PASSWORD;
}

async function withStore<T>(
  build: ((dir: string) => Promise<unknown>) | null,
  work: (store: HistoryStore<unknown>, dir: string) => Promise<T>,
  parent?: string,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-git-http-", dir: parent });
  try {
    if (build !== null) await build(dir);
    const store = await openTestStore({ dir, projection: NO_PROJECTION, committer: COMMITTER });
    try {
      return await work(store, dir);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function statusAppend(n: number): CommitRequest {
  const path = `agreements/bestuur-${String(n % 7).padStart(5, "0")}/leverancier-0001/status.json`;
  return {
    subject: `Review ${n}`,
    trailers: [["Event", "review"], ["Version", String(n)]],
    author: AUTHOR,
    at: new Date(Date.UTC(2026, 0, 1) + n * 1000),
    files: new Map([[
      path,
      encoder.encode(`${JSON.stringify({ version: n, state: "reviewed" })}\n`),
    ]]),
  };
}

async function append(store: HistoryStore<unknown>, count: number, from = 0): Promise<void> {
  for (let n = from; n < from + count; n++) {
    const commit = statusAppend(n);
    await store.transact(() => ({ commit, result: null }));
  }
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "akkoord-git-http-clone-" });
}

/** Removes a clone made in its own temporary directory, and that directory. */
async function removeClone(path: string): Promise<void> {
  const parent = path.slice(0, path.lastIndexOf("/"));
  if (!parent.split("/").at(-1)?.startsWith("akkoord-git-http-clone-")) {
    throw new Error(`Refusing to remove "${parent}": not a clone's temporary directory`);
  }
  await Deno.remove(parent, { recursive: true });
}

/** Clones bare into a fresh directory and checks it: fsck --strict, HEAD. */
async function cloneChecked(
  url: string,
  config: string[],
  expectedHead: string,
  options: string[] = [],
): Promise<string> {
  const target = `${await tempDir()}/clone.git`;
  await git([...STRICT, ...config, "clone", "--quiet", "--bare", ...options, url, target]);
  await git(["--git-dir", target, "fsck", "--strict", "--no-dangling"]);
  assert.equal((await git(["--git-dir", target, "rev-parse", "HEAD"])).trim(), expectedHead);
  return target;
}

async function objectList(gitdir: string, ...revs: string[]): Promise<string[]> {
  const args = revs.length === 0 ? ["HEAD"] : revs;
  const listing = await git(["--git-dir", gitdir, "rev-list", "--objects", ...args]);
  return listing.split("\n").filter((line) => line !== "").map((line) => line.slice(0, 40)).sort();
}

async function commitCount(gitdir: string): Promise<number> {
  return Number((await git(["--git-dir", gitdir, "rev-list", "--count", "HEAD"])).trim());
}

const small = (dir: string) =>
  buildBigHistory({ dir, events: 150, boards: 12, suppliers: 6, committer: COMMITTER });

Deno.test("git clone over protocol v2 and v0 receives every object; fsck --strict is clean", async () => {
  await withStore(small, async (store, dir) => {
    await append(store, 5);
    const served = serve(store);
    try {
      const head = store.head() as string;
      const expected = await objectList(await historyGitDir(dir));
      for (const args of [[], V0]) {
        const clone = await cloneChecked(served.url, args, head);
        assert.deepEqual(await objectList(clone), expected);
        await removeClone(clone);
      }
    } finally {
      await served.close();
    }
  });
});

Deno.test("git ls-remote over v2 and v0 lists HEAD and main", async () => {
  await withStore(small, async (store) => {
    const served = serve(store);
    try {
      const head = store.head() as string;
      for (const args of [[], V0]) {
        const listing = await git([...args, "ls-remote", served.url]);
        assert.equal(listing, `${head}\tHEAD\n${head}\trefs/heads/main\n`);
      }
      const symref = await git(["ls-remote", "--symref", served.url, "HEAD"]);
      assert.match(symref, /^ref: refs\/heads\/main\tHEAD\n/);
    } finally {
      await served.close();
    }
  });
});

Deno.test("shallow clones of depth 1 and 5, then fetch --deepen and --unshallow", async () => {
  await withStore(small, async (store, dir) => {
    const served = serve(store);
    try {
      const head = store.head() as string;
      const full = await commitCount(await historyGitDir(dir));
      for (const args of [[], V0]) {
        const one = await cloneChecked(served.url, args, head, ["--depth", "1"]);
        assert.equal(await commitCount(one), 1);
        assert.equal((await Deno.readTextFile(`${one}/shallow`)).trim(), head);
        assert.deepEqual(
          await objectList(one),
          await objectList(await historyGitDir(dir), "--max-count=1", "HEAD"),
        );
        const five = await cloneChecked(served.url, args, head, ["--depth", "5"]);
        assert.equal(await commitCount(five), 5);
        await git([...STRICT, ...args, "--git-dir", five, "fetch", "--quiet", "--deepen", "3"]);
        await git(["--git-dir", five, "fsck", "--strict", "--no-dangling"]);
        assert.equal(await commitCount(five), 8);
        await git([...STRICT, ...args, "--git-dir", five, "fetch", "--quiet", "--unshallow"]);
        await git(["--git-dir", five, "fsck", "--strict", "--no-dangling"]);
        assert.equal(await commitCount(five), full);
        assert.equal(
          (await git(["--git-dir", five, "rev-parse", "--is-shallow-repository"])).trim(),
          "false",
        );
        assert.deepEqual(await objectList(five), await objectList(await historyGitDir(dir)));
        const since = await cloneChecked(served.url, args, head, [
          "--shallow-since=2025-01-06T10:00:00Z",
        ]);
        assert.equal(await commitCount(since), 31, "events 120 to 150 are at or after 10:00");
        await removeClone(one);
        await removeClone(five);
        await removeClone(since);
      }
    } finally {
      await served.close();
    }
  });
});

Deno.test("git fetch after 100 appends transfers only the new objects, as a thin pack", async () => {
  await withStore(small, async (store, dir) => {
    const served = serve(store);
    try {
      for (const args of [[], V0]) {
        const old = store.head() as string;
        const clone = await cloneChecked(served.url, args, old);
        await append(store, 100, 1000 * (args.length + 1));
        const head = store.head() as string;
        const trace = await runCapture("git", [
          ...STRICT,
          ...args,
          "--git-dir",
          clone,
          "fetch",
          "--progress",
          "origin",
          "+refs/heads/*:refs/heads/*",
        ], { env: { GIT_TRACE_PACKET: "1", GIT_TERMINAL_PROMPT: "0" } });
        await git(["--git-dir", clone, "fsck", "--strict", "--no-dangling"]);
        assert.equal((await git(["--git-dir", clone, "rev-parse", "main"])).trim(), head);
        const fresh = await git([
          "--git-dir",
          await historyGitDir(dir),
          "rev-list",
          "--objects",
          head,
          `^${old}`,
        ]);
        const wanted = fresh.split("\n").filter((line) => line !== "").length;
        const received = /(?:Receiving|Unpacking) objects: 100% \((\d+)\/\d+\)/.exec(trace.stderr);
        const count = Number(received?.[1]);
        assert.equal(count, wanted, "the pack holds exactly the objects the clone lacked");
        assert.ok(count <= 100 * 6, `${count} objects for 100 appends`);
        assert.match(trace.stderr, new RegExp(`have ${old}`));
        assert.match(trace.stderr, /completed with \d+ local objects|Unpacking objects/);
        await removeClone(clone);
      }
    } finally {
      await served.close();
    }
  });
});

Deno.test("an empty history clones as an empty repository", async () => {
  await withStore(null, async (store) => {
    const served = serve(store);
    try {
      for (const args of [[], V0]) {
        const target = `${await tempDir()}/empty`;
        const { stderr } = await runCapture("git", [
          ...STRICT,
          ...args,
          "clone",
          served.url,
          target,
        ], {
          env: { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", HOME: "/nonexistent" },
        });
        assert.match(stderr, /cloned an empty repository/);
        assert.equal(await git(["ls-remote", served.url]), "");
        await removeClone(target);
      }
    } finally {
      await served.close();
    }
  });
});

Deno.test("a clone while events are appended gets a consistent snapshot", async () => {
  await withStore(small, async (store) => {
    const served = serve(store);
    const heads = new Set([store.head() as string]);
    store.onAppend((oid) => heads.add(oid));
    try {
      let appending = true;
      const writer = (async () => {
        for (let n = 0; appending && n < 400; n++) await append(store, 1, 5000 + n);
      })();
      const clones = [];
      for (let round = 0; round < 4; round++) {
        for (const args of [[], V0]) {
          const target = `${await tempDir()}/clone.git`;
          await git([...STRICT, ...args, "clone", "--quiet", "--bare", served.url, target]);
          await git(["--git-dir", target, "fsck", "--strict", "--no-dangling"]);
          clones.push((await git(["--git-dir", target, "rev-parse", "HEAD"])).trim());
          await removeClone(target);
        }
      }
      appending = false;
      await writer;
      for (const head of clones) assert.ok(heads.has(head), `${head} was a head`);
      assert.ok(new Set(clones).size > 1, "the history moved during the clones");
    } finally {
      await served.close();
    }
  });
});

Deno.test("push is refused with a message git prints; dumb HTTP is refused", async () => {
  await withStore(small, async (store) => {
    const served = serve(store);
    try {
      const clone = await tempDir();
      await git(["clone", "--quiet", served.url, `${clone}/work`]);
      await Deno.writeTextFile(`${clone}/work/extra.txt`, "not allowed\n");
      await git(["-C", `${clone}/work`, "add", "extra.txt"]);
      await git([
        "-C",
        `${clone}/work`,
        "-c",
        "user.name=A",
        "-c",
        "user.email=a@b",
        "commit",
        "-qm",
        "x",
      ]);
      const push = new Deno.Command("git", {
        args: ["-C", `${clone}/work`, "push", "origin", "HEAD:refs/heads/main"],
        env: { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", HOME: "/nonexistent" },
        stdout: "piped",
        stderr: "piped",
      });
      const result = await push.output();
      assert.equal(result.success, false);
      assert.match(
        new TextDecoder().decode(result.stderr),
        /read-only: pushing to it is not possible/,
      );
      const auth = { Authorization: `Basic ${btoa(`auditor:${PASSWORD}`)}` };
      const post = await fetch(`${served.bare}/git-receive-pack`, {
        method: "POST",
        headers: auth,
      });
      assert.equal(post.status, 403);
      assert.match(await post.text(), /read-only/);
      const dumb = await fetch(`${served.bare}/info/refs`, { headers: auth });
      assert.equal(dumb.status, 403);
      await dumb.body?.cancel();
      const head = await fetch(`${served.bare}/HEAD`, { headers: auth });
      assert.equal(head.status, 404);
      await head.body?.cancel();
      await Deno.remove(clone, { recursive: true });
    } finally {
      await served.close();
    }
  });
});

Deno.test("requests without the password get 401 with a Basic challenge", async () => {
  await withStore(small, async (store) => {
    const served = serve(store);
    try {
      const response = await fetch(`${served.bare}/info/refs?service=git-upload-pack`);
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("WWW-Authenticate"), 'Basic realm="Akkoord history"');
      await response.body?.cancel();
      const wrong = await fetch(`${served.bare}/info/refs?service=git-upload-pack`, {
        headers: { Authorization: `Basic ${btoa("auditor:wrong")}` },
      });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
      const post = await fetch(`${served.bare}/git-upload-pack`, { method: "POST", body: "0000" });
      assert.equal(post.status, 401);
      await post.body?.cancel();
      const cloned = new Deno.Command("git", {
        args: ["ls-remote", served.bare],
        env: { GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", HOME: "/nonexistent" },
        stdout: "piped",
        stderr: "piped",
      });
      const result = await cloned.output();
      assert.equal(result.success, false);
      assert.match(
        new TextDecoder().decode(result.stderr),
        /Authentication failed|could not read Username/,
      );
    } finally {
      await served.close();
    }
  });
});

async function uploadPackPost(
  served: Served,
  body: BodyInit,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(`${served.bare}/git-upload-pack`, {
    method: "POST",
    body,
    headers: {
      Authorization: `Basic ${btoa(`auditor:${PASSWORD}`)}`,
      "Content-Type": "application/x-git-upload-pack-request",
      ...headers,
    },
  });
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function pkt(text: string): string {
  return (text.length + 4).toString(16).padStart(4, "0") + text;
}

Deno.test("oversized bodies, gzip bombs and too many wants are refused", async () => {
  await withStore(small, async (store) => {
    const served = serve(store, { maxBodyBytes: 64 * 1024, maxWants: 8 });
    try {
      const head = store.head() as string;
      const big = await uploadPackPost(served, new Uint8Array(65 * 1024));
      assert.equal(big.status, 413);
      assert.match(await big.text(), /exceeds 65536 bytes/);
      const bomb = await gzip(new Uint8Array(16 << 20));
      assert.ok(bomb.length < 64 * 1024);
      const bombed = await uploadPackPost(served, bomb, { "Content-Encoding": "gzip" });
      assert.equal(bombed.status, 413);
      await bombed.body?.cancel();
      const broken = await uploadPackPost(served, new Uint8Array([1, 2, 3]), {
        "Content-Encoding": "gzip",
      });
      assert.equal(broken.status, 400);
      await broken.body?.cancel();
      const wants = Array.from({ length: 9 }, () => pkt(`want ${head}\n`)).join("");
      const v2 = `${pkt("command=fetch\n")}0001${wants}${pkt("done\n")}0000`;
      const many = await uploadPackPost(served, v2, { "Git-Protocol": "version=2" });
      assert.equal(many.status, 200);
      assert.equal(await many.text(), pkt("ERR more than 8 wants\n"));
      const gzipped = await gzip(encoder.encode(
        `${pkt("command=fetch\n")}0001${pkt(`want ${"1".repeat(40)}\n`)}${pkt("done\n")}0000`,
      ));
      const unknown = await uploadPackPost(served, gzipped, {
        "Git-Protocol": "version=2",
        "Content-Encoding": "gzip",
      });
      assert.equal(await unknown.text(), pkt(`ERR upload-pack: not our ref ${"1".repeat(40)}\n`));
    } finally {
      await served.close();
    }
  });
});

Deno.test("a history of 10,000 events clones with deltas of bounded depth and fscks clean", async () => {
  await withStore(
    (dir) =>
      buildBigHistory({ dir, events: 10_000, boards: 200, suppliers: 50, committer: COMMITTER }),
    async (store, dir) => {
      const served = serve(store);
      try {
        const head = store.head() as string;
        const clone = await cloneChecked(served.url, [], head);
        assert.equal(await commitCount(clone), 10_001);
        assert.equal(
          (await objectList(clone)).length,
          (await objectList(await historyGitDir(dir))).length,
        );
        const [pack] = [...Deno.readDirSync(`${clone}/objects/pack`)]
          .filter((entry) => entry.name.endsWith(".pack"));
        const verify = await git(["verify-pack", "-v", `${clone}/objects/pack/${pack?.name}`]);
        const chains = [...verify.matchAll(/^chain length = (\d+): (\d+) objects?$/gm)];
        const deltas = chains.reduce((sum, match) => sum + Number(match[2]), 0);
        const deepest = Math.max(...chains.map((match) => Number(match[1])));
        assert.ok(deltas > 20_000, `${deltas} objects are deltas`);
        assert.ok(deepest <= 50, `the longest delta chain is ${deepest}`);
        await removeClone(clone);
      } finally {
        await served.close();
      }
    },
    await memoryBackedDir(),
  );
});

/** /dev/shm when there is one: the 10,000-event history is 60,000 small files. */
async function memoryBackedDir(): Promise<string | undefined> {
  try {
    return (await Deno.stat("/dev/shm")).isDirectory ? "/dev/shm" : undefined;
  } catch {
    return undefined;
  }
}

Deno.test("deltas rebuild their target from the base after random edits", () => {
  let seed = 7;
  const random = (limit: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % limit;
  };
  for (let round = 0; round < 200; round++) {
    const base = Uint8Array.from({ length: random(5000) }, () => random(256));
    let target = base;
    for (let edit = random(6); edit >= 0; edit--) {
      const at = random(target.length + 1);
      const cut = random(40);
      const insert = Uint8Array.from({ length: random(40) }, () => random(256));
      const next = new Uint8Array(
        target.length - Math.min(cut, target.length - at) + insert.length,
      );
      next.set(target.subarray(0, at));
      next.set(insert, at);
      next.set(target.subarray(Math.min(target.length, at + cut)), at + insert.length);
      target = next;
    }
    const delta = encodeDelta(base, target);
    assert.deepEqual(applyDelta(base, delta), target);
    if (base.length > 1000 && target.length > 1000) assert.ok(delta.length < target.length / 4);
  }
});
