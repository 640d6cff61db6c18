import assert from "node:assert/strict";
import { generateSigningKey } from "../store/signing_key.ts";
import { sshVerifyCommit } from "./helpers/git.ts";
import { BOARD, offer, OTHER_BOARD } from "./helpers/board_flow.ts";
import { sampleOffer, startTestService } from "./helpers/service.ts";
import { exportAndVerify } from "./helpers/kv_history.ts";
import { script } from "./helpers/verify_cli.ts";
import { onlyOn } from "./helpers/test_store.ts";

// About the Deno KV backend itself, which these tests set up explicitly.

async function signerOf(gitdir: string, signers: string, commit: string): Promise<string> {
  const stderr = await sshVerifyCommit(gitdir, signers, commit);
  return /with ED25519 key (SHA256:\S+)/.exec(stderr)?.[1] ?? stderr;
}

Deno.test(
  onlyOn("kv", "a KV history rotates its key through an exported copy and a fast-forward import"),
  async () => {
    const work = await Deno.makeTempDir({ prefix: "akkoord-kv-rotation-" });
    const data = `${work}/data`;
    const kvPath = `${data}/history.kv`;
    const oldKey = (await generateSigningKey()).file;
    try {
      let service = await startTestService(
        { AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: oldKey },
        data,
      );
      try {
        assert.equal((await offer(service, await sampleOffer([BOARD.id]))).status, 201);
      } finally {
        await service.close();
      }

      const copy = `${work}/copy`;
      await Deno.mkdir(copy, { mode: 0o700 });
      assert.equal(
        (await script(["export_history.ts", `${copy}/history.git`, "--kv", kvPath])).code,
        0,
      );
      await Deno.writeTextFile(`${copy}/signing_key`, oldKey, { mode: 0o600 });
      const rotated = await script(["rotate_key.ts", "--data-dir", copy]);
      assert.equal(rotated.code, 0, rotated.stderr);
      const imported = await script(["import_history.ts", copy, "--kv", kvPath]);
      assert.equal(imported.code, 0, imported.stderr);
      const newKey = await Deno.readTextFile(`${copy}/signing_key`);
      assert.notEqual(newKey, oldKey);

      await assert.rejects(
        startTestService({ AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: oldKey }, data),
        /retired it \(valid-before\)/,
      );
      service = await startTestService({ AKKOORD_STORE: "kv", AKKOORD_SIGNING_KEY: newKey }, data);
      let published: string;
      try {
        assert.equal((await offer(service, await sampleOffer([OTHER_BOARD.id]))).status, 201);
        published = await (await fetch(`${service.url}/.well-known/akkoord/allowed_signers`))
          .text();
      } finally {
        await service.close();
      }
      assert.match(
        published,
        /valid-before="\d{14}Z" ssh-ed25519 .*\n.*valid-after="\d{14}Z" ssh-ed25519 /,
      );

      const history = await exportAndVerify(kvPath, `${work}/audit.git`);
      const signers = `${work}/allowed_signers`;
      await Deno.writeTextFile(signers, published);
      const keys = [];
      for (const commit of [...history.commits].reverse()) {
        keys.push(await signerOf(history.gitdir, signers, commit));
      }
      assert.equal(new Set(keys).size, 2, keys.join("\n"));
      assert.notEqual(keys[0], keys.at(-1));
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
);
