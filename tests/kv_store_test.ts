import assert from "node:assert/strict";
import { openDiskStore } from "../store/disk_store.ts";
import { openKvStore } from "../store/kv_store.ts";
import { generateSigningKey, rotatedAllowedSigners } from "../store/signing_key.ts";
import type { SigningKey } from "../store/sshsig.ts";
import type { CommitRequest, HistoryStore } from "../store/history.ts";
import { onlyOn } from "./helpers/test_store.ts";
import { exportAndVerify } from "./helpers/kv_history.ts";
import { COMMITTER, filesProjection, type FilesState } from "./helpers/files_projection.ts";

// About the Deno KV backend itself, which these tests set up explicitly.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function request(at: number, files: Record<string, string | Uint8Array | null>): CommitRequest {
  return {
    subject: `Change ${at}`,
    trailers: [["Event", "test"], ["Sequence", String(at)]],
    author: { name: "Zoë <Tester>", email: "tester@example.org" },
    at: new Date(Date.UTC(2024, 0, 1) + at * 1000),
    files: new Map(
      Object.entries(files).map(([path, content]) => [
        path,
        typeof content === "string" ? encoder.encode(content) : content,
      ]),
    ),
  };
}

async function append(store: HistoryStore<FilesState>, commit: CommitRequest): Promise<string> {
  const { oid } = await store.transact(() => ({ commit, result: null }));
  assert.ok(oid !== null);
  return oid;
}

async function withKv<T>(work: (kv: Deno.Kv) => Promise<T>): Promise<T> {
  const kv = await Deno.openKv(":memory:");
  try {
    return await work(kv);
  } finally {
    kv.close();
  }
}

function openKv(kv: Deno.Kv, signingKey: SigningKey): Promise<HistoryStore<FilesState>> {
  return openKvStore({ kv, projection: filesProjection(), committer: COMMITTER, signingKey });
}

const EVENTS: Array<Record<string, string | null>> = [
  { "agreements/41039/81819889/status.json": "{}\n", "boards/41039.json": '{"a":1}\n' },
  { "agreements/41039/81819889/status.json": '{"v":2}\n', "a/b/c/d.txt": "deep\n" },
  { "a/b/c/d.txt": null, "boards/41039.json": '{"a":2}\n' },
  { "suppliers/81819889.json": "{}\n", "agreements/41039/81819889/agreement.md": "# Tekst\n" },
  { "agreements/41039/81819889/status.json": null },
];

Deno.test(
  onlyOn("kv", "the same events with a fixed clock give the same oids on disk and on KV"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-" });
    try {
      const { key, file } = await generateSigningKey();
      await Deno.writeTextFile(`${dir}/signing_key`, file, { mode: 0o600 });
      const disk = await openDiskStore({
        dir,
        projection: filesProjection(),
        committer: COMMITTER,
      });
      await withKv(async (kv) => {
        const store = await openKv(kv, key);
        try {
          for (const [i, files] of EVENTS.entries()) {
            const onDisk = await append(disk, request(i, files));
            const onKv = await append(store, request(i, files));
            assert.equal(onKv, onDisk, `event ${i}`);
          }
          assert.equal(store.head(), disk.head());
          assert.deepEqual(store.state, disk.state);
          assert.equal(store.allowedSigners(), disk.allowedSigners());
          assert.deepEqual(await store.log(), await disk.log());
          const path = "agreements/41039/81819889/status.json";
          assert.deepEqual(await store.log({ path }), await disk.log({ path }));
          const [latest] = await store.log({ limit: 1 });
          assert.ok(latest !== undefined);
          assert.deepEqual(
            await store.readTreeFiles(latest.tree),
            await disk.readTreeFiles(latest.tree),
          );
          const first = (await store.log()).at(-1)?.oid ?? "";
          assert.equal(decoder.decode((await store.readFile(first, path)) ?? undefined), "{}\n");
          assert.equal(await store.readFile(latest.oid, path), null);
          assert.deepEqual(await store.readObject(latest.oid), await disk.readObject(latest.oid));
        } finally {
          await store.close();
        }
        const reopened = await openKv(kv, key);
        assert.deepEqual(reopened.state, disk.state);
        assert.equal(reopened.head(), disk.head());
        await reopened.close();
      });
      await disk.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  onlyOn("kv", "two stores on one KV database: each decide sees the other's commits"),
  async () => {
    await withKv(async (kv) => {
      const { key } = await generateSigningKey();
      const stores = [await openKv(kv, key), await openKv(kv, key)];
      const counter = (state: FilesState) => Number(state.files.get("counter.txt") ?? "0");
      const decided: number[] = [];
      const runs = Array.from({ length: 40 }, (_, i) =>
        stores[i % 2]!.transact((state) => {
          decided.push(i);
          const next = counter(state) + 1;
          return { commit: request(i, { "counter.txt": String(next) }), result: next };
        }));
      const results = (await Promise.all(runs)).map((run) => run.result);
      assert.deepEqual(results.sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1));
      assert.ok(decided.length > 40, "some decisions lost a race and ran again");
      const log = await stores[0]!.log({
        from: (await kv.get<string>(["history", "refs", "refs/heads/main"])).value ?? "",
      });
      assert.equal(log.length, 40);
      assert.ok(log.every((commit) => commit.parents.length <= 1));
      for (const store of stores) await store.close();
      const fresh = await openKv(kv, key);
      assert.equal(counter(fresh.state), 40);
      await fresh.close();
    });
  },
);

Deno.test(
  onlyOn("kv", "an object larger than one KV value is chunked and read back whole"),
  async () => {
    await withKv(async (kv) => {
      const { key } = await generateSigningKey();
      const store = await openKv(kv, key);
      const large = new Uint8Array(300_000);
      for (let offset = 0; offset < large.length; offset += 65_536) {
        crypto.getRandomValues(large.subarray(offset, offset + 65_536));
      }
      const oid = await append(store, request(1, { "large.bin": large }));
      assert.deepEqual(await store.readFile(oid, "large.bin"), large);
      const chunks = await Array.fromAsync(kv.list({ prefix: ["history", "chunks"] }));
      assert.ok(chunks.length >= 5, `${chunks.length} chunks`);
      await store.close();
    });
  },
);

Deno.test(
  onlyOn("kv", "an append beyond one atomic operation is written in parts, the ref moved last"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-large-" });
    try {
      const kv = await Deno.openKv(`${dir}/history.kv`);
      const { key } = await generateSigningKey();
      const store = await openKv(kv, key);
      await append(store, request(1, { "a.txt": "a" }));
      // 1,000 files and their trees: more than the 1,000 writes of one operation.
      const many: Record<string, string> = {};
      for (let i = 0; i < 1000; i++) many[`many/${i % 40}/${i}.txt`] = String(i);
      const second = await append(store, request(2, many));
      // Random bytes do not deflate: 14 × 60 KB is more than the 800 KiB of one operation.
      const big: Record<string, Uint8Array> = {};
      for (let i = 0; i < 14; i++) {
        big[`big/${i}.bin`] = crypto.getRandomValues(new Uint8Array(60_000));
      }
      const third = await append(store, request(3, big));
      assert.equal(store.head(), third);
      assert.equal(decoder.decode((await store.readFile(second, "many/7/487.txt"))!), "487");
      assert.deepEqual(await store.readFile(third, "big/13.bin"), big["big/13.bin"]);
      await store.close();
      const reopened = await openKv(kv, key);
      assert.equal(reopened.head(), third);
      assert.equal(reopened.state.files.size, 1 + 1000 + 14);
      await reopened.close();
      kv.close();
      const exported = await exportAndVerify(`${dir}/history.kv`, `${dir}/export.git`);
      assert.deepEqual(exported.commits.slice(0, 2), [third, second]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  onlyOn("kv", "a decision without a commit or a throwing decide writes nothing on KV"),
  async () => {
    await withKv(async (kv) => {
      const { key } = await generateSigningKey();
      const store = await openKv(kv, key);
      const first = await append(store, request(1, { "a.txt": "a" }));
      assert.deepEqual(await store.transact(() => ({ commit: null, result: 7 })), {
        oid: null,
        result: 7,
      });
      await assert.rejects(
        store.transact(() => {
          throw new Error("Cannot sign: not approved");
        }),
        /not approved/,
      );
      await assert.rejects(
        store.transact(() => ({ commit: request(2, { "../x": "x" }), result: null })),
        /is not a name Git accepts/,
      );
      assert.equal((await kv.get(["history", "refs", "refs/heads/main"])).value, first);
      await store.close();
      await assert.rejects(
        store.transact(() => ({ commit: null, result: null })),
        /store is closed/,
      );
    });
  },
);

Deno.test(onlyOn("kv", "a key that keys/allowed_signers retired is refused on KV"), async () => {
  await withKv(async (kv) => {
    const retired = (await generateSigningKey()).key;
    const active = (await generateSigningKey()).key;
    const store = await openKv(kv, retired);
    await append(store, request(1, { "a.txt": "a" }));
    const signers = rotatedAllowedSigners(
      store.allowedSigners(),
      retired.publicKey,
      active.publicKey,
      new Date(Date.UTC(2024, 0, 1, 1)),
    );
    await store.close();
    const rotating = await openKv(kv, active);
    await append(rotating, request(3600, { "keys/allowed_signers": signers }));
    await rotating.close();
    await assert.rejects(openKv(kv, retired), /retired it \(valid-before\)/);
    const again = await openKv(kv, active);
    await append(again, request(3601, { "b.txt": "b" }));
    assert.equal(again.allowedSigners(), signers);
    await again.close();
  });
});
