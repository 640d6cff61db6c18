import assert from "node:assert/strict";
import { Hono } from "hono";
import { createGitHttp } from "../routes/git_http.ts";
import { openTestStore } from "./helpers/test_store.ts";

const NO_PROJECTION = { empty: () => null, wants: () => false, apply() {}, setHead() {} };
const COMMITTER = { name: "Akkoord", email: "history@akkoord.example" };

/** A body that sends one byte every `everyMs` and ends only when stopped. */
function trickle(everyMs: number): { body: ReadableStream<Uint8Array>; stop(): void } {
  let timer: ReturnType<typeof setInterval> | undefined;
  let close = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      close = () => {
        clearInterval(timer);
        try {
          controller.close();
        } catch {
          // Already cancelled by the connection.
        }
      };
      timer = setInterval(() => {
        try {
          controller.enqueue(new TextEncoder().encode("0"));
        } catch {
          clearInterval(timer);
        }
      }, everyMs);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return { body, stop: () => close() };
}

Deno.test("git HTTP: a request body that trickles in is cut off at the body deadline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-git-deadline-" });
  const store = await openTestStore({ dir, projection: NO_PROJECTION, committer: COMMITTER });
  const app = new Hono();
  app.route(
    "/history.git",
    createGitHttp({
      store,
      authenticate: () => Promise.resolve(true),
      limits: { bodyTimeLimitMs: 500 },
    }),
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const slow = trickle(100);
  try {
    const started = performance.now();
    const response = await fetch(
      `http://127.0.0.1:${server.addr.port}/history.git/git-upload-pack`,
      {
        method: "POST",
        headers: { "Content-Type": "application/x-git-upload-pack-request" },
        body: slow.body,
        signal: AbortSignal.timeout(5_000),
      },
    );
    const elapsed = performance.now() - started;
    assert.equal(response.status, 408);
    assert.match(await response.text(), /did not arrive within 1 seconds/);
    assert.ok(elapsed < 5_000, `answered after ${Math.round(elapsed)} ms`);
  } finally {
    slow.stop();
    await server.shutdown();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
