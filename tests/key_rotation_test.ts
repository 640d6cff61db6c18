import assert from "node:assert/strict";
import {
  acceptTerms,
  agreementPath,
  agreementStatus,
  BOARD,
  boardUser,
  offer,
  OTHER_BOARD,
  versionFields,
} from "./helpers/board_flow.ts";
import { git, sshVerifyCommit } from "./helpers/git.ts";
import { sampleOffer, startTestService } from "./helpers/service.ts";
import { commitTree, events, setMain } from "./helpers/tamper.ts";
import { onlyOn } from "./helpers/test_store.ts";
import { script } from "./helpers/verify_cli.ts";

// rotate_key.ts rotates the disk store's signing_key file; kv_rotation_test.ts rotates a KV history.

/** `git verify-commit` with the SSH allowed_signers file; resolves the key it names, or throws. */
async function verifyCommit(gitDir: string, signers: string, commit: string): Promise<string> {
  const stderr = await sshVerifyCommit(gitDir, signers, commit);
  const good = /Good "git" signature for akkoord@history with ED25519 key (SHA256:\S+)/.exec(
    stderr,
  );
  assert.ok(good, `commit ${commit}: ${stderr}`);
  return good[1]!;
}

Deno.test(
  onlyOn("disk", "a rotated key keeps old commits valid and refuses the old key afterwards"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-rotation-" });
    const data = `${dir}/data`;
    try {
      let service = await startTestService({}, data);
      try {
        assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
        const person = await boardUser(service, BOARD, ["beoordelen", "ondertekenen"]);
        await acceptTerms(person, BOARD.id);
        const shown = versionFields(await agreementStatus(service, BOARD.id));
        assert.equal((await person.submit(agreementPath(BOARD.id, "approve"), shown)).status, 303);

        const busy = await script(["rotate_key.ts", "--data-dir", data]);
        assert.equal(busy.code, 1);
        assert.match(busy.stderr, /another process is using it/);
      } finally {
        await service.close();
      }

      const oldKey = `${dir}/old_signing_key`;
      await Deno.copyFile(`${data}/signing_key`, oldKey);
      const rotated = await script(["rotate_key.ts", "--data-dir", data]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /Rotated the signing key/);
      await assert.rejects(Deno.stat(`${data}/signing_key.next`), Deno.errors.NotFound);
      assert.notEqual(
        await Deno.readTextFile(`${data}/signing_key`),
        await Deno.readTextFile(oldKey),
      );

      service = await startTestService({}, data);
      let published: string;
      try {
        const person = await boardUser(service, BOARD, ["ondertekenen"]);
        const shown = versionFields(await agreementStatus(service, BOARD.id));
        const signed = await person.submit(agreementPath(BOARD.id, "sign"), {
          ...shown,
          confirm: "on",
        });
        assert.equal(signed.status, 303);
        assert.equal((await offer(service, await sampleOffer([OTHER_BOARD.id]))).status, 201);
        published = await (await fetch(`${service.url}/.well-known/akkoord/allowed_signers`))
          .text();
      } finally {
        await service.close();
      }
      const lines = published.trim().split("\n");
      assert.equal(lines.length, 2, published);
      assert.match(
        lines[0]!,
        /^akkoord@history namespaces="git",valid-before="\d{14}Z" ssh-ed25519 /,
      );
      assert.match(
        lines[1]!,
        /^akkoord@history namespaces="git",valid-after="\d{14}Z" ssh-ed25519 /,
      );

      const clone = `${dir}/clone.git`;
      await git(["clone", "--bare", "--quiet", `${data}/history.git`, clone]);
      const signers = `${dir}/allowed_signers`;
      await Deno.writeTextFile(signers, published);
      const history = await events(clone);
      const rotation = history.findIndex((commit) => commit.event === "key-rotated");
      assert.ok(rotation > 0 && rotation < history.length - 1, "events before and after");
      const keys = [];
      for (const commit of history) keys.push(await verifyCommit(clone, signers, commit.oid));
      assert.equal(new Set(keys.slice(0, rotation)).size, 1);
      assert.equal(new Set(keys.slice(rotation)).size, 1);
      assert.notEqual(keys[0], keys[rotation], "the rotation commit is signed by the new key");

      const verified = await script(["verify/main.ts", clone, "--allowed-signers", signers]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /by 2 key\(s\)/);
      assert.match(verified.stdout, /key-rotated 1/);
      assert.match(verified.stdout, /readme-updated 1\b/, "restarts leave the README alone");

      const head = history.at(-1)!.oid;
      const late = await commitTree(clone, {
        tree: (await git(["--git-dir", clone, "rev-parse", `${head}^{tree}`])).trim(),
        parent: head,
        message: "Late commit\n\nEvent: readme-updated\nActor: akkoord\nRole: systeem\n" +
          "Organisation: 00000000\nAssurance: none\n",
        key: oldKey,
        at: new Date(Date.now() + 60_000),
      });
      await setMain(clone, late);
      await assert.rejects(verifyCommit(clone, signers, late), /expired|not valid/);
      const refused = await script(["verify/main.ts", clone, "--allowed-signers", signers]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`Commit ${late} .*key SHA256:\\S+ was not valid at`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  onlyOn(
    "disk",
    "after a rotation the store refuses the retired key and drops an abandoned next key",
  ),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "akkoord-rotation-" });
    const data = `${dir}/data`;
    try {
      await (await startTestService({}, data)).close();
      const oldKey = await Deno.readFile(`${data}/signing_key`);
      assert.equal((await script(["rotate_key.ts", "--data-dir", data])).code, 0);

      await Deno.writeFile(`${data}/signing_key.next`, oldKey, { mode: 0o600 });
      await (await startTestService({}, data)).close();
      await assert.rejects(Deno.stat(`${data}/signing_key.next`), Deno.errors.NotFound);

      const active = await Deno.readFile(`${data}/signing_key`);
      await Deno.writeFile(`${data}/signing_key`, oldKey, { mode: 0o600 });
      await assert.rejects(startTestService({}, data), /retired it/);
      await Deno.writeFile(`${data}/signing_key`, active, { mode: 0o600 });
      await (await startTestService({}, data)).close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
