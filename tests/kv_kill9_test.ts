import assert from "node:assert/strict";
import { generateSigningKey } from "../store/signing_key.ts";
import { exportAndVerify, remainingLines, startAppender } from "./helpers/kv_history.ts";
import { onlyOn } from "./helpers/test_store.ts";

// About the Deno KV backend itself, which these tests set up explicitly.

const ROUNDS = 5;

Deno.test(
  onlyOn("kv", "kill -9 while appending to a KV file loses no acknowledged event and no object"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-kv-kill9-" });
    try {
      const path = `${dir}/history.kv`;
      const { file } = await generateSigningKey();
      const acknowledged: string[][] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const appender = await startAppender(path, String(round), file);
        // Killed at a random moment after its first acknowledged event.
        const first = await appender.lines.read();
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 350));
        appender.child.kill("SIGKILL");
        acknowledged.push([
          ...(first.done ? [] : [first.value]),
          ...await remainingLines(appender),
        ]);
        await appender.child.stderr.cancel();
        assert.equal((await appender.child.status).signal, "SIGKILL");
      }

      const history = await exportAndVerify(path, `${dir}/export.git`, { verifyCommits: false });
      const recorded = new Set(history.eventIds);
      assert.equal(recorded.size, history.eventIds.length, "no event doubled");
      for (const [round, ids] of acknowledged.entries()) {
        assert.ok(ids.length > 0, `round ${round} acknowledged no event`);
        for (const id of ids) assert.ok(recorded.has(id), `event ${id} was lost`);
        const extra = [...recorded].filter((id) => id.startsWith(`${round}-`) && !ids.includes(id));
        assert.ok(extra.length <= 1, `round ${round} has unacknowledged events ${extra}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
