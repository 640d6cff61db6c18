/// <reference lib="deno.unstable" />
import assert from "node:assert/strict";
import { readKvObject, readMainRef } from "../store/kv_objects.ts";
import type { CommitRequest, HistoryStore } from "../store/history.ts";
import { exportAndVerify, openFilesKvStore } from "./helpers/kv_history.ts";
import { onlyOn } from "./helpers/test_store.ts";
import { fileChanges, type FilesState } from "./helpers/files_projection.ts";

// Group commit on the Deno KV backend: transact() calls that queue up are
// decided in order and appended together, in as few atomic operations as
// KV's limits allow.

const decoder = new TextDecoder();

function request(n: number, files: Record<string, string | Uint8Array>): CommitRequest {
  return {
    subject: `Event ${n}`,
    trailers: [["Sequence", String(n)]],
    author: { name: "Tester", email: "tester@example.org" },
    at: new Date(Date.UTC(2024, 0, 1) + n * 1000),
    files: fileChanges(files),
  };
}

/** A KV database file whose atomic operations are counted, and a second connection to it. */
interface Database {
  path: string;
  kv: Deno.Kv;
  /** Another connection to the same file: what is durable, not what the store holds. */
  observer: Deno.Kv;
  atomics(): number;
}

async function withDatabase(work: (db: Database) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-group-" });
  const path = `${dir}/history.kv`;
  const real = await Deno.openKv(path);
  const observer = await Deno.openKv(path);
  let atomics = 0;
  const kv = new Proxy(real, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          atomics++;
          return target.atomic();
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  try {
    await work({ path, kv, observer, atomics: () => atomics });
  } finally {
    observer.close();
    real.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `work` on a store opened on a fresh {@link Database} with a fresh key, closed after. */
async function withStore(
  work: (store: HistoryStore<FilesState>, db: Database) => Promise<void>,
): Promise<void> {
  await withDatabase(async (db) => {
    const store = await openFilesKvStore(db.kv);
    try {
      await work(store, db);
    } finally {
      await store.close();
    }
  });
}

/** Appends the first event, which writes `seed.txt`. */
async function seed(store: HistoryStore<FilesState>): Promise<void> {
  await store.transact(() => ({ commit: request(0, { "seed.txt": "0" }), result: 0 }));
}

/** The first-parent chain of commits from `head`, oldest first. */
async function chain(store: HistoryStore<FilesState>): Promise<string[]> {
  return (await store.log()).map((commit) => commit.subject).reverse();
}

Deno.test(
  onlyOn(
    "kv",
    "concurrent transacts become one chain in call order, each acknowledged once durable",
  ),
  async () => {
    await withStore(async (store, db) => {
      await seed(store);
      const before = db.atomics();
      const durableAtAck: Array<Promise<void>> = [];
      const seen: number[] = [];
      const calls = Array.from({ length: 20 }, (_, i) => {
        const n = i + 1;
        const call = store.transact((state) => {
          seen.push(state.files.size);
          return { commit: request(n, { [`events/${n}.txt`]: String(n) }), result: n };
        });
        durableAtAck.push(call.then(async ({ oid }) => {
          assert.ok(oid !== null);
          // The commit is in KV and the durable ref has reached it.
          const commit = await readKvObject(db.observer, oid);
          assert.equal(commit.type, "commit");
          const ref = await readMainRef(db.observer);
          const ancestors = (await store.log({ from: ref.oid ?? undefined })).map((c) => c.oid);
          assert.ok(ancestors.includes(oid), `event ${n} is acknowledged before it is durable`);
          assert.equal(store.state.files.get(`events/${n}.txt`), String(n));
        }));
        return call;
      });
      const results = await Promise.all(calls);
      await Promise.all(durableAtAck);
      assert.deepEqual(results.map(({ result }) => result), calls.map((_, i) => i + 1));
      assert.deepEqual(
        seen,
        calls.map((_, i) => 1 + i),
        "each decision sees the commits of the calls before it",
      );
      assert.deepEqual(await chain(store), [
        "Event 0",
        ...calls.map((_, i) => `Event ${i + 1}`),
      ]);
      const operations = db.atomics() - before;
      assert.ok(operations < 20, `20 commits took ${operations} atomic operations`);
      assert.equal((await readMainRef(db.observer)).oid, store.head());
    });
  },
);

Deno.test(
  onlyOn("kv", "calls decided on top of an append that lost a race are decided again"),
  async () => {
    await withDatabase(async (db) => {
      // Before the next atomic operation commits, another writer appends.
      let interloper: (() => Promise<void>) | null = null;
      const kv = new Proxy(db.kv, {
        get(target, property) {
          if (property === "atomic") {
            return () => {
              const operation = target.atomic();
              const commit = operation.commit.bind(operation);
              operation.commit = async () => {
                const run = interloper;
                interloper = null;
                await run?.();
                return await commit();
              };
              return operation;
            };
          }
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const store = await openFilesKvStore(kv);
      await seed(store);
      const other = await openFilesKvStore(db.observer);
      try {
        const count = (state: FilesState) => Number(state.files.get("counter.txt") ?? 0);
        const increment = (n: number) => (state: FilesState) => ({
          commit: request(n, { "counter.txt": String(count(state) + 1) }),
          result: count(state) + 1,
        });
        interloper = async () => {
          await other.transact(increment(100));
        };
        const calls = Array.from({ length: 10 }, (_, i) => store.transact(increment(i + 1)));
        const results = (await Promise.all(calls)).map(({ result }) => result);
        assert.deepEqual(results, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], "each saw the one before");
        assert.equal(store.state.files.get("counter.txt"), "11");
        assert.deepEqual(await chain(store), [
          "Event 0",
          "Event 100",
          ...calls.map((_, i) => `Event ${i + 1}`),
        ]);
        assert.equal((await readMainRef(db.observer)).oid, store.head());
      } finally {
        await other.close();
        await store.close();
      }
    });
  },
);

Deno.test(
  onlyOn("kv", "readers never see a grouped commit before it is durable"),
  async () => {
    await withStore(async (store, db) => {
      await seed(store);
      let reads = 0;
      let stop = false;
      const reading = (async () => {
        while (!stop) {
          const shown = store.state.head;
          const files = store.state.files.size;
          assert.equal(shown, store.head(), "the state is at the head the store has appended");
          const durable = (await readMainRef(db.observer)).oid;
          // What the store shows is at most what the durable ref holds.
          const history = await store.log({ from: durable ?? undefined });
          const at = history.findIndex((commit) => commit.oid === shown);
          assert.ok(at >= 0, `the state shows head ${shown}, which is not durable`);
          assert.equal(files, history.length - at, "the state shows one file per commit");
          reads++;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      })();
      // Settled here so that a failed check fails this test once awaited.
      const reader = reading.then(() => null, (error: unknown) => error);
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.transact(() => ({
            commit: request(i + 1, { [`events/${i + 1}.txt`]: "x" }),
            result: null,
          }))),
      );
      stop = true;
      const failure = await reader;
      if (failure !== null) throw failure;
      assert.ok(reads > 0);
    });
  },
);

Deno.test(
  onlyOn("kv", "a decide that throws in a group rejects only its own call"),
  async () => {
    await withStore(async (store) => {
      await seed(store);
      const seenBySeventh: string[] = [];
      const calls = Array.from(
        { length: 10 },
        (_, i) =>
          store.transact<string | number>((state) => {
            if (i === 4) throw new Error("Cannot offer event 5: refused on purpose");
            if (i === 6) seenBySeventh.push(...state.files.keys());
            if (i === 8) return { commit: null, result: "nothing to do" };
            return { commit: request(i + 1, { [`events/${i + 1}.txt`]: "x" }), result: i + 1 };
          }),
      );
      const settled = await Promise.allSettled(calls);
      const rejected = settled.flatMap((outcome, i) => outcome.status === "rejected" ? [i] : []);
      assert.deepEqual(rejected, [4]);
      const failure = settled[4];
      assert.ok(failure?.status === "rejected");
      assert.match(String(failure.reason), /refused on purpose/);
      const none = settled[8];
      assert.ok(none?.status === "fulfilled");
      assert.deepEqual(none.value, { oid: null, result: "nothing to do" });
      assert.deepEqual(await chain(store), [
        "Event 0",
        "Event 1",
        "Event 2",
        "Event 3",
        "Event 4",
        "Event 6",
        "Event 7",
        "Event 8",
        "Event 10",
      ]);
      assert.ok(!seenBySeventh.includes("events/5.txt"));
      assert.ok(seenBySeventh.includes("events/6.txt"));
      assert.equal(store.state.files.has("events/5.txt"), false);
      assert.equal(store.state.files.size, 9);
    });
  },
);

Deno.test(
  onlyOn("kv", "a group beyond KV's limits of one atomic operation is split"),
  async () => {
    await withStore(async (store, db) => {
      await seed(store);
      const before = db.atomics();
      // Random bytes do not deflate: 24 commits of 60 KB each are about
      // 1.4 MB, more than the 800 KiB one operation may write.
      const calls = Array.from({ length: 24 }, (_, i) =>
        store.transact(() => ({
          commit: request(i + 1, {
            [`big/${i + 1}.bin`]: crypto.getRandomValues(new Uint8Array(60_000)),
          }),
          result: null,
        })));
      const oids = (await Promise.all(calls)).map(({ oid }) => oid);
      const operations = db.atomics() - before;
      assert.ok(operations >= 2, `1.4 MB went into ${operations} atomic operation(s)`);
      assert.ok(operations < 24, `24 commits took ${operations} atomic operations`);
      assert.deepEqual(await chain(store), [
        "Event 0",
        ...calls.map((_, i) => `Event ${i + 1}`),
      ]);
      assert.equal(oids.at(-1), (await readMainRef(db.observer)).oid);
      const reopened = await openFilesKvStore(db.observer);
      assert.equal(reopened.state.files.size, 25);
      await reopened.close();
    });
  },
);

Deno.test(
  onlyOn("kv", "grouped commits keep large trees as deltas that stock git reads back whole"),
  async () => {
    await withStore(async (store, db) => {
      const work = await Deno.makeTempDir({ prefix: "akkoord-kv-group-export-" });
      try {
        // A directory of 100 entries, each event changing one of them: the
        // later versions of the directory in a group are kept as deltas.
        for (let part = 0; part < 4; part++) {
          const files: Record<string, string> = {};
          for (let i = part * 25; i < part * 25 + 25; i++) files[`boards/${i}/status.json`] = "{}";
          await store.transact(() => ({ commit: request(part, files), result: null }));
        }
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            store.transact(() => ({
              commit: request(10 + i, { [`boards/${(i * 37) % 100}/status.json`]: `{"v":${i}}` }),
              result: null,
            }))),
        );
        const values = await Array.fromAsync(db.observer.list({ prefix: ["history", "objects"] }));
        const deltas = values.filter((entry) =>
          !(entry.value instanceof Uint8Array) &&
          typeof entry.value === "object"
        );
        assert.ok(deltas.length > 0, "some tree versions are kept as deltas");
        const reopened = await openFilesKvStore(db.observer);
        assert.deepEqual(reopened.state.files, store.state.files);
        await reopened.close();
        await store.close();
        const exported = await exportAndVerify(db.path, `${work}/history.git`);
        assert.equal(exported.commits.length, 34);
      } finally {
        await Deno.remove(work, { recursive: true });
      }
    });
  },
);

Deno.test(
  onlyOn("kv", "a large tree reached again keeps the form KV holds it in"),
  async () => {
    await withStore(async (store, db) => {
      const names = Array.from({ length: 70 }, (_, i) => `d/${i}.txt`);
      const all = (content: string) => Object.fromEntries(names.map((name) => [name, content]));
      await store.transact(() => ({ commit: request(0, all("0")), result: null }));
      // d/ is kept whole now, then as deltas against it for a while, then
      // whole again; the last event brings back the first version, which
      // the deltas rest on and which must stay whole.
      const oids: string[] = [];
      for (let i = 1; i <= 34; i++) {
        const { oid } = await store.transact(() => ({
          commit: request(i, { [`d/${i}.txt`]: "1" }),
          result: null,
        }));
        oids.push(oid ?? "");
      }
      await store.transact(() => ({ commit: request(35, all("0")), result: null }));
      const reopened = await openFilesKvStore(db.observer);
      try {
        for (const [i, oid] of oids.entries()) {
          const content = await reopened.readFile(oid, `d/${i + 1}.txt`);
          assert.equal(decoder.decode(content ?? new Uint8Array()), "1", `after event ${i + 1}`);
        }
      } finally {
        await reopened.close();
      }
    });
  },
);
