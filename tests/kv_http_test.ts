import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import { generateSigningKey } from "../store/signing_key.ts";
import { git, sshVerifyCommit } from "./helpers/git.ts";
import { agreementPath, BOARD, offeredToBoard } from "./helpers/board_flow.ts";
import { Browser, startTestService, type TestService } from "./helpers/service.ts";
import { onlyOn } from "./helpers/test_store.ts";

// About the Deno KV backend itself, which these tests set up explicitly.

async function auditorCloneUrl(service: TestService): Promise<string> {
  const auditor = new Browser(service.url);
  await auditor.login({
    organisation: DEMO_OPERATOR_KVK,
    name: "Otto Controle",
    mandates: ["auditor"],
  });
  await auditor.page("/tokens");
  const created = await auditor.submit("/tokens", { label: "KV-controle", days: "1" });
  const secret = /akk_[A-Za-z0-9_-]{43}/.exec(await created.text())?.[0];
  assert.ok(secret, "the page shows the new token once");
  const url = new URL(`${service.url}/history.git`);
  url.username = "auditor";
  url.password = secret;
  return url.href;
}

async function verifyAll(clone: string, signers: string): Promise<number> {
  const commits = (await git(["--git-dir", clone, "rev-list", "HEAD"])).trim().split("\n");
  for (const commit of commits) {
    const stderr = await sshVerifyCommit(clone, signers, commit);
    assert.match(stderr, /Good "git" signature for akkoord@history with ED25519 key/);
  }
  return commits.length;
}

/** Clones the history as an auditor with stock git, checking every object, and fscks it. */
async function cloneChecked(service: TestService, clone: string): Promise<void> {
  const url = await auditorCloneUrl(service);
  await git(["-c", "transfer.fsckObjects=true", "clone", "--quiet", "--bare", url, clone]);
  await git(["--git-dir", clone, "fsck", "--strict", "--no-dangling"]);
}

Deno.test(
  onlyOn("kv", "a KV-backed service serves its history to stock git over HTTP"),
  async () => {
    const work = await Deno.makeTempDir({ prefix: "akkoord-kv-http-" });
    const data = `${work}/data`;
    const { file } = await generateSigningKey();
    const env = { AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: file };
    try {
      let service = await startTestService(env, data);
      let events: number;
      try {
        const { user, shown } = await offeredToBoard(service, ["beoordelen", "ondertekenen"]);
        assert.equal((await user.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);
        const clone = `${work}/first.git`;
        await cloneChecked(service, clone);
        const signers = `${work}/allowed_signers`;
        const published = await (await fetch(`${service.url}/.well-known/akkoord/allowed_signers`))
          .text();
        assert.equal(
          published,
          await git(["--git-dir", clone, "show", "HEAD:keys/allowed_signers"]),
        );
        await Deno.writeTextFile(signers, published);
        events = await verifyAll(clone, signers);
        assert.ok(events >= 4, `every event is a commit, got ${events}`);
        assert.match(
          await git(["--git-dir", clone, "log", "-1", "--format=%B"]),
          /^Event: approved$/m,
        );
      } finally {
        await service.close();
      }
      await Deno.stat(`${data}/history.kv`);
      await assert.rejects(Deno.stat(`${data}/history.git`), Deno.errors.NotFound);

      service = await startTestService(env, data);
      try {
        const clone = `${work}/second.git`;
        await cloneChecked(service, clone);
        await git(["--git-dir", clone, "fetch", "--quiet", `${work}/first.git`, "HEAD:refs/first"]);
        await git(["--git-dir", clone, "merge-base", "--is-ancestor", "refs/first", "HEAD"]);
        assert.ok((await verifyAll(clone, `${work}/allowed_signers`)) >= events);
      } finally {
        await service.close();
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
);
