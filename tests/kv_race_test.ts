import assert from "node:assert/strict";
import { generateSigningKey } from "../store/signing_key.ts";
import { git } from "./helpers/git.ts";
import { exportAndVerify, remainingLines, startAppender } from "./helpers/kv_history.ts";
import { onlyOn } from "./helpers/test_store.ts";

// About the Deno KV backend itself, which these tests set up explicitly.

const EVENTS = 80;

Deno.test(
  onlyOn("kv", "two processes racing on one KV file: no event lost or doubled"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-race-" });
    try {
      const path = `${dir}/history.kv`;
      const { file } = await generateSigningKey();
      const writers = await Promise.all(
        ["a", "b"].map((writer) => startAppender(path, writer, file, EVENTS)),
      );
      const acknowledged = await Promise.all(writers.map(remainingLines));
      const statuses = await Promise.all(writers.map(async ({ child }) => {
        const stderr = await new Response(child.stderr).text();
        return { ...(await child.status), stderr };
      }));
      for (const status of statuses) assert.equal(status.code, 0, status.stderr);
      for (const [i, ids] of acknowledged.entries()) {
        assert.equal(
          ids.length,
          EVENTS,
          `writer ${i}`,
        );
      }

      const history = await exportAndVerify(path, `${dir}/export.git`, { verifyCommits: false });
      assert.equal(history.commits.length, 2 * EVENTS);
      assert.equal(new Set(history.eventIds).size, 2 * EVENTS, "every event once");
      assert.deepEqual(new Set(history.eventIds), new Set(acknowledged.flat()));
      const merges = await git([
        "--git-dir",
        history.gitdir,
        "rev-list",
        "--min-parents=2",
        "HEAD",
      ]);
      assert.equal(merges, "");
      const counter = await git(["--git-dir", history.gitdir, "show", "HEAD:counter.txt"]);
      assert.equal(counter, String(2 * EVENTS), "each event was decided against the latest head");
      const interleaved = history.eventIds.slice(0, -1).filter((id, i) =>
        id[0] !== history.eventIds[i + 1]?.[0]
      );
      assert.ok(interleaved.length > 1, "the writers' events interleave");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
