import assert from "node:assert/strict";
import { git, run } from "./helpers/git.ts";
import {
  agreementStatus,
  BOARD,
  offer,
  type ShownVersion,
  SUPPLIER,
  TERMS_FORM,
  versionFields,
} from "./helpers/board_flow.ts";
import { Browser, sampleOffer, startTestService, type TestService } from "./helpers/service.ts";
import { historyGitDir } from "./helpers/test_store.ts";

const AGREEMENT = `agreements/${BOARD.id}/${SUPPLIER}`;

async function current(service: TestService): Promise<ShownVersion> {
  return versionFields(await agreementStatus(service, BOARD.id));
}

/** Makes a history with every kind of event, acted by people with awkward names. */
async function makeHistory(service: TestService): Promise<void> {
  assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
  const person = new Browser(service.url);
  await person.login({
    organisation: BOARD.kvk,
    name: 'Zoë <Ünal> "de" Wit',
    mandates: ["beoordelen", "ondertekenen"],
  });
  await person.page(`/boards/${BOARD.id}`);
  await person.submit(`/boards/${BOARD.id}/terms`, TERMS_FORM);
  const path = `/boards/${BOARD.id}/agreements/${SUPPLIER}`;
  await person.submit(`${path}/reject`, {
    ...await current(service),
    reason: "Artikel 9:\nde meldtermijn van datalekken is te lang.",
  });
  const revised = await sampleOffer([BOARD.id]);
  revised.text += "\nAanvulling: meldtermijn 24 uur.\n";
  assert.equal((await offer(service, revised)).status, 201);
  await person.submit(`${path}/approve`, await current(service));
  const signed = await person.submit(`${path}/sign`, { ...await current(service), confirm: "on" });
  assert.equal(signed.status, 303);
}

Deno.test("stock git clones the history; fsck --strict is clean; every commit verifies", async () => {
  const service = await startTestService();
  const clone = await Deno.makeTempDir({ prefix: "akkoord-clone-" });
  try {
    await makeHistory(service);
    await git(["clone", "--quiet", await historyGitDir(service.dir), clone]);
    await git(["fsck", "--strict", "--no-dangling"], { cwd: clone });

    const published = await (await fetch(`${service.url}/.well-known/akkoord/allowed_signers`))
      .text();
    assert.equal(published, await git(["show", "HEAD:keys/allowed_signers"], { cwd: clone }));
    const signers = `${clone}.allowed_signers`;
    await Deno.writeTextFile(signers, published);
    const commits = (await git(["rev-list", "HEAD"], { cwd: clone })).trim().split("\n");
    assert.ok(commits.length >= 8, `expected every event as a commit, got ${commits.length}`);
    for (const commit of commits) {
      const { stderr } = await runVerify(clone, signers, commit);
      assert.match(stderr, /Good "git" signature for akkoord@history with ED25519 key/);
    }
    const events = (await git(["log", "--format=%(trailers:key=Event,valueonly)"], { cwd: clone }))
      .split("\n").filter(Boolean);
    assert.deepEqual(events.slice(0, 6), [
      "signed",
      "approved",
      "offered",
      "rejected",
      "terms-accepted",
      "offered",
    ]);
    const authors = await git(["log", "-6", "--format=%an <%ae>"], { cwd: clone });
    assert.match(authors, /^Zoë Ünal "de" Wit <[0-9a-f]+@kvk-01087061\.invalid>$/m);
    await Deno.remove(signers);
  } finally {
    await service.close();
    await Deno.remove(clone, { recursive: true });
  }
});

Deno.test("git log -p on an agreement shows each version as a readable diff", async () => {
  const service = await startTestService();
  try {
    await makeHistory(service);
    const gitDir = await historyGitDir(service.dir);
    const log = await git([
      "--git-dir",
      gitDir,
      "log",
      "-p",
      "--format=%s",
      "--",
      `${AGREEMENT}/version/agreement.md`,
    ]);
    assert.match(log, /^\+Aanvulling: meldtermijn 24 uur\.$/m);
    assert.equal((log.match(/^Offer "Testovereenkomst"/gm) ?? []).length, 2);
  } finally {
    await service.close();
  }
});

Deno.test("a signature names the oid and SHA-256 of exactly the content in the tree", async () => {
  const service = await startTestService();
  const checkout = await Deno.makeTempDir({ prefix: "akkoord-checkout-" });
  try {
    await makeHistory(service);
    const gitDir = await historyGitDir(service.dir);
    const message = await git(["--git-dir", gitDir, "log", "-1", "--format=%B"]);
    const trailer = (name: string) => new RegExp(`^${name}: (.+)$`, "m").exec(message)?.[1];
    assert.equal(trailer("Event"), "signed");
    const versionOid = (await git(["--git-dir", gitDir, "rev-parse", `HEAD:${AGREEMENT}/version`]))
      .trim();
    assert.equal(trailer("Version-Oid"), versionOid);

    await git(["--git-dir", gitDir, "--work-tree", checkout, "checkout", "HEAD", "--", "."]);
    const manifest = await run("sh", [
      "-c",
      "find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum",
    ], { cwd: `${checkout}/${AGREEMENT}/version` });
    assert.equal(trailer("Content-SHA256"), manifest.split(" ")[0]);
    const status = JSON.parse(await Deno.readTextFile(`${checkout}/${AGREEMENT}/status.json`));
    assert.equal(status.inForce.contentSha256, trailer("Content-SHA256"));
  } finally {
    await service.close();
    await Deno.remove(checkout, { recursive: true });
  }
});

async function runVerify(clone: string, signers: string, commit: string) {
  const child = await new Deno.Command("git", {
    args: [
      "-c",
      "gpg.format=ssh",
      "-c",
      `gpg.ssh.allowedSignersFile=${signers}`,
      "verify-commit",
      commit,
    ],
    cwd: clone,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(child.code, 0, `verify-commit ${commit} failed`);
  return { stderr: new TextDecoder().decode(child.stderr) };
}
