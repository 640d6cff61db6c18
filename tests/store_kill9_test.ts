import assert from "node:assert/strict";
import { openDiskStore } from "../store/disk_store.ts";
import { git } from "./helpers/git.ts";
import { onlyOn } from "./helpers/test_store.ts";

// kill -9 of the disk store's appender; kv_kill9_test.ts does the same for KV.

const ROUNDS = 5;
const CHILD = new URL("./fixtures/store_append_child.ts", import.meta.url).pathname;
const PROJECT = new URL("../", import.meta.url).pathname;

interface Round {
  acknowledged: string[];
  stale: boolean;
}

/** Runs the child until a random moment 50–400 ms after its first event, then kills it. */
async function killedRound(dir: string, round: number): Promise<Round> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, dir, String(round)],
    cwd: PROJECT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines());
  const reader = lines.getReader();
  const first = await reader.read();
  if (first.value !== "ready") {
    const stderr = await new Response(child.stderr).text();
    throw new Error(`Cannot run append child: it said "${first.value}" ${stderr}`);
  }
  // The random moment is counted from the first acknowledged event, so that a
  // slow start on a busy machine still kills the child while it appends.
  const acknowledged: string[] = [];
  const firstEvent = await reader.read();
  if (!firstEvent.done) acknowledged.push(firstEvent.value);
  await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 350));
  child.kill("SIGKILL");
  for (let line = await reader.read(); !line.done; line = await reader.read()) {
    acknowledged.push(line.value);
  }
  const status = await child.status;
  await child.stderr.cancel();
  assert.equal(status.signal, "SIGKILL");
  const stale = await exists(`${dir}/history.git/refs/heads/main.lock`);
  return { acknowledged, stale };
}

function splitLines(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (rest !== "") controller.enqueue(rest);
    },
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test(
  onlyOn("disk", "kill -9 during appends loses no acknowledged event and leaves fsck clean"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-kill9-" });
    try {
      const rounds: Round[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        rounds.push(await killedRound(dir, round));
        const store = await openDiskStore({
          dir,
          projection: { empty: () => null, wants: () => false, apply() {}, setHead() {} },
          committer: { name: "Akkoord", email: "history@akkoord.example" },
        });
        await store.close();
        await git(["--git-dir", `${dir}/history.git`, "fsck", "--strict", "--no-dangling"]);
      }
      const log = await git([
        "--git-dir",
        `${dir}/history.git`,
        "log",
        "--format=%(trailers:key=Event-Id,valueonly)",
      ]);
      const recorded = new Set(log.split("\n").filter((line) => line !== ""));
      for (const [round, { acknowledged }] of rounds.entries()) {
        assert.ok(acknowledged.length > 0, `round ${round} acknowledged no event`);
        for (const id of acknowledged) assert.ok(recorded.has(id), `event ${id} was lost`);
        const extra = [...recorded].filter((id) =>
          id.startsWith(`${round}-`) && !acknowledged.includes(id)
        );
        assert.ok(extra.length <= 1, `round ${round} has unacknowledged events ${extra}`);
      }
      const total = rounds.reduce((sum, round) => sum + round.acknowledged.length, 0);
      assert.ok(recorded.size >= total);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
