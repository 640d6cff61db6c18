import assert from "node:assert/strict";
import { git } from "./helpers/git.ts";
import { startTestService } from "./helpers/service.ts";
import { historyGitDir, historyHead, testBackend } from "./helpers/test_store.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("the test service keeps its history on the backend AKKOORD_TEST_STORE names", async () => {
  const service = await startTestService();
  try {
    const backend = testBackend();
    assert.equal(service.server.config.store.kind, backend);
    assert.equal(await exists(`${service.dir}/history.git`), backend === "disk");
    assert.equal(await exists(`${service.dir}/history.kv`), backend === "kv");
    const head = await historyHead(service.dir);
    assert.match(head ?? "", /^[0-9a-f]{40}$/);
    const gitdir = await historyGitDir(service.dir);
    assert.equal((await git(["--git-dir", gitdir, "rev-parse", "HEAD"])).trim(), head);
    await git(["--git-dir", gitdir, "fsck", "--strict", "--no-dangling"]);
  } finally {
    await service.close();
  }
});
