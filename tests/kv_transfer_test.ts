import assert from "node:assert/strict";
import { openDiskStore } from "../store/disk_store.ts";
import { openKvStore } from "../store/kv_store.ts";
import { importOpenSshKey } from "../store/signing_key.ts";
import type { CommitRequest, HistoryStore } from "../store/history.ts";
import { git } from "./helpers/git.ts";
import { exportAndVerify, script } from "./helpers/kv_history.ts";
import { onlyOn } from "./helpers/test_store.ts";

// About the Deno KV backend itself, which these tests set up explicitly.

const COMMITTER = { name: "Akkoord", email: "history@akkoord.example" };
const NO_PROJECTION = { empty: () => null, wants: () => false, apply() {}, setHead() {} };
const encoder = new TextEncoder();

function request(n: number, files: Record<string, Uint8Array>): CommitRequest {
  return {
    subject: `Event ${n}`,
    trailers: [["Event", "test"], ["Event-Id", `transfer-${n}`]],
    author: { name: "Tester", email: "tester@example.org" },
    at: new Date(Date.UTC(2025, 5, 1) + n * 1000),
    files: new Map(Object.entries(files)),
  };
}

async function append(store: HistoryStore<null>, commit: CommitRequest): Promise<string> {
  const { oid } = await store.transact(() => ({ commit, result: null }));
  assert.ok(oid !== null);
  return oid;
}

async function objectsOf(gitdir: string): Promise<string[]> {
  const listing = await git(["--git-dir", gitdir, "rev-list", "--objects", "refs/heads/main"]);
  return listing.trim().split("\n").map((line) => line.slice(0, 40)).sort();
}

Deno.test(
  onlyOn("kv", "import a packed disk history into KV and export it back: every oid stays"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-transfer-" });
    try {
      const data = `${dir}/data`;
      const disk = await openDiskStore({
        dir: data,
        projection: NO_PROJECTION,
        committer: COMMITTER,
      });
      const large = new Uint8Array(200_000);
      for (let offset = 0; offset < large.length; offset += 65_536) {
        crypto.getRandomValues(large.subarray(offset, offset + 65_536));
      }
      for (let n = 0; n < 12; n++) {
        const files: Record<string, Uint8Array> = {
          [`agreements/b${n % 3}/s${n % 2}/status.json`]: encoder.encode(`{"n":${n}}\n`),
        };
        if (n === 4) files["agreements/b1/s0/bijlage.bin"] = large;
        await append(disk, request(n, files));
      }
      await disk.close();
      await git(["--git-dir", `${data}/history.git`, "gc", "--quiet"]);
      const counts = await git(["--git-dir", `${data}/history.git`, "count-objects", "-v"]);
      assert.match(counts, /^count: 0$/m, "every object is packed");

      const kvPath = `${dir}/history.kv`;
      const imported = await script(["import_history.ts", data, "--kv", kvPath]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /^Imported \d+ objects of ".*history\.git" into /);
      const again = await script(["import_history.ts", data, "--kv", kvPath]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /nothing imported/);

      const keyText = await Deno.readTextFile(`${data}/signing_key`);
      const kv = await Deno.openKv(kvPath);
      const onKv = await openKvStore({
        kv,
        projection: NO_PROJECTION,
        committer: COMMITTER,
        signingKey: await importOpenSshKey("signing_key", keyText),
      });
      const next = request(12, { "agreements/b2/s1/status.json": encoder.encode("{}\n") });
      const kvHead = await append(onKv, next);
      await onKv.close();
      kv.close();
      const reopened = await openDiskStore({
        dir: data,
        projection: NO_PROJECTION,
        committer: COMMITTER,
      });
      assert.equal(await append(reopened, next), kvHead, "KV continues the history as disk does");
      await reopened.close();

      const exported = await exportAndVerify(kvPath, `${dir}/export.git`);
      assert.equal(exported.commits[0], kvHead);
      assert.equal(exported.commits.length, 13);
      assert.deepEqual(await objectsOf(exported.gitdir), await objectsOf(`${data}/history.git`));
      assert.equal(
        (await git([
          "--git-dir",
          exported.gitdir,
          "cat-file",
          "-s",
          "HEAD:agreements/b1/s0/bijlage.bin",
        ]))
          .trim(),
        "200000",
      );

      const twice = await script(["export_history.ts", exported.gitdir, "--kv", kvPath]);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /Cannot export to ".*": it already has refs\/heads\/main/);
      const other = await Deno.makeTempDir({ dir, prefix: "other-" });
      const fresh = await openDiskStore({
        dir: other,
        projection: NO_PROJECTION,
        committer: COMMITTER,
      });
      await append(fresh, request(99, { "x.txt": encoder.encode("x") }));
      await fresh.close();
      const refused = await script(["import_history.ts", other, "--kv", kvPath]);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        new RegExp(
          `Deno KV holds another history \\(head ${kvHead}\\), which the imported one does not extend`,
        ),
      );
      const usage = await script(["export_history.ts"]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /Usage: deno task export <dir>/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
