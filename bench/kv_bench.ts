/**
 * Signed appends per second: the disk store against the Deno KV store on a
 * local database file, doing the same work (one small status.json changed per
 * commit under agreements/<board>/<supplier>/ in a tree of 600 boards × 5
 * suppliers: 1 blob, 4 trees, 1 SSH-signed commit, the ref moved with its old
 * value checked). Both are durable when the append resolves. The KV history
 * starts as an import of the disk history, as a move to KV would.
 *
 * Run: npx -y deno@2.9.6 bench -A bench/kv_bench.ts
 * Deno's summary prints how many times faster the KV store is than disk;
 * the target on KV is at least 500 appends/s.
 */
import { openDiskStore } from "../store/disk_store.ts";
import { openKvStore } from "../store/kv_store.ts";
import { importKvHistory } from "../store/kv_transfer.ts";
import { importOpenSshKey } from "../store/signing_key.ts";
import type { CommitRequest, HistoryStore, Identity } from "../store/history.ts";

const BOARDS = 600;
const SUPPLIERS = 5;
const COMMITTER: Identity = { name: "Akkoord", email: "history@akkoord.example" };
const AUTHOR: Identity = { name: "Bench Reviewer", email: "reviewer@example.org" };
const NO_PROJECTION = { empty: () => null, wants: () => false, apply() {}, setHead() {} };
const encoder = new TextEncoder();

const root = await Deno.makeTempDir({ prefix: "akkoord-kv-bench-" });
const disk = await openDiskStore({
  dir: `${root}/store`,
  projection: NO_PROJECTION,
  committer: COMMITTER,
});
await disk.transact(() => ({ commit: seedRequest(), result: null }));
const kv = await Deno.openKv(`${root}/history.kv`);
await importKvHistory(kv, `${root}/store/history.git`);
const onKv = await openKvStore({
  kv,
  projection: NO_PROJECTION,
  committer: COMMITTER,
  signingKey: await importOpenSshKey(
    "signing_key",
    await Deno.readTextFile(`${root}/store/signing_key`),
  ),
});
globalThis.addEventListener("unload", () => {
  kv.close();
  Deno.removeSync(root, { recursive: true });
});
let sequence = 0;

Deno.bench({
  name: "disk store transact",
  group: "signed append",
  baseline: true,
  n: 600,
  warmup: 20,
  async fn() {
    await appendNext(disk);
  },
});

Deno.bench({
  name: "KV store transact (local database file)",
  group: "signed append",
  n: 600,
  warmup: 20,
  async fn() {
    await appendNext(onKv);
  },
});

async function appendNext(store: HistoryStore<null>): Promise<void> {
  const commit = statusRequest(sequence++);
  await store.transact(() => ({ commit, result: null }));
}

function statusRequest(n: number): CommitRequest {
  const board = `bestuur-${(n * 7919) % BOARDS}`;
  const supplier = `leverancier-${n % SUPPLIERS}`;
  return {
    subject: `Review ${n}`,
    trailers: [["Event", "review"], ["Version", String(n)]],
    author: AUTHOR,
    at: new Date(Date.UTC(2025, 0, 1) + n * 1000),
    files: new Map([[
      `agreements/${board}/${supplier}/status.json`,
      encoder.encode(`${JSON.stringify({ version: n, state: "offered", at: n })}\n`),
    ]]),
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
  return {
    subject: "Seed",
    trailers: [],
    author: AUTHOR,
    at: new Date(Date.UTC(2025, 0, 1)),
    files,
  };
}
