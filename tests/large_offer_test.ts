import assert from "node:assert/strict";
import { COMMITTER } from "../server.ts";
import { stateProjection } from "../domain/projection.ts";
import { registerOrganisations } from "../domain/registry.ts";
import type { Board } from "../domain/state.ts";
import { headOf, offer } from "./helpers/board_flow.ts";
import { sampleOffer, startTestService } from "./helpers/service.ts";
import { historyGitDir, openTestStore } from "./helpers/test_store.ts";
import { git } from "./helpers/git.ts";

// A sector of a thousand boards: one offer to all of them is one commit of
// about 3,000 new objects, more than one atomic operation of Deno KV holds.
const BOARDS = 1000;

function board(i: number): Board {
  const id = String(60000 + i);
  return {
    id,
    kvk: String(70000000 + i),
    name: `Stichting Proefbestuur ${i}`,
    sector: "po",
    contactEmail: `privacy@bg${id}.besturen.example`,
  };
}

Deno.test("an offer to a thousand boards in one request is one commit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "akkoord-large-offer-" });
  try {
    // The registry of a large sector, loaded before the service starts.
    const boards = Array.from({ length: BOARDS }, (_, i) => board(i));
    const store = await openTestStore({ dir, projection: stateProjection, committer: COMMITTER });
    await store.transact((state) =>
      registerOrganisations(state, { boards, suppliers: [], at: new Date() })
    );
    await store.close();

    const service = await startTestService({}, dir);
    try {
      const before = await headOf(service);
      const response = await offer(service, await sampleOffer(boards.map((b) => b.id)));
      assert.equal(response.status, 201, await response.clone().text());
      const body = await response.json();
      assert.equal(body.agreements.length, BOARDS);
      assert.ok(body.agreements.every((a: { outcome: string }) => a.outcome === "offered"));
      const after = await headOf(service);
      const gitdir = await historyGitDir(dir);
      const commits = await git(["--git-dir", gitdir, "rev-list", `${before}..${after}`]);
      assert.equal(commits.trim().split("\n").length, 1, "one offer, one commit");
      await git(["--git-dir", gitdir, "fsck", "--strict", "--no-dangling"]);
      const offered = await git([
        "--git-dir",
        gitdir,
        "ls-tree",
        "--name-only",
        after,
        "agreements/",
      ]);
      const ids = new Set(offered.trim().split("\n").map((path) => path.split("/")[1]));
      for (const { id } of boards) assert.ok(ids.has(id), `agreements/${id} is in the tree`);
    } finally {
      await service.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
