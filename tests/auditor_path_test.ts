import assert from "node:assert/strict";
import { DEMO_OPERATOR_KVK } from "../config.ts";
import { git } from "./helpers/git.ts";
import { headOf, offeredToBoard, withService } from "./helpers/board_flow.ts";
import { Browser } from "./helpers/service.ts";

Deno.test("an auditor creates a token, clones the history over HTTP with stock git and verifies it", () =>
  withService(async (service) => {
    const { user, shown } = await offeredToBoard(service, ["beoordelen", "ondertekenen"]);
    await user.submit("/boards/41344/agreements/99000001/approve", shown);
    await user.submit("/boards/41344/agreements/99000001/sign", { ...shown, confirm: "on" });

    const auditor = new Browser(service.url);
    await auditor.login({
      organisation: DEMO_OPERATOR_KVK,
      name: "Otto Controle",
      mandates: ["auditor"],
    });
    await auditor.page("/tokens");
    const created = await auditor.submit("/tokens", { label: "Jaarcontrole", days: "30" });
    const secret = /akk_[A-Za-z0-9_-]{43}/.exec(await created.text())?.[0];
    assert.ok(secret, "the page shows the new token once");

    const work = await Deno.makeTempDir({ prefix: "akkoord-audit-" });
    const clone = `${work}/history.git`;
    const signers = `${work}/allowed_signers`;
    try {
      const url = new URL(`${service.url}/history.git`);
      url.username = "auditor";
      url.password = secret;
      await git(["-c", "transfer.fsckObjects=true", "clone", "--quiet", "--bare", url.href, clone]);
      assert.equal(
        (await git(["--git-dir", clone, "rev-parse", "HEAD"])).trim(),
        await headOf(service),
      );
      await Deno.writeTextFile(
        signers,
        await (await fetch(`${service.url}/.well-known/akkoord/allowed_signers`)).text(),
      );
      const verify = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../verify/main.ts", import.meta.url).pathname,
          clone,
          "--allowed-signers",
          signers,
        ],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const output = new TextDecoder().decode(verify.stdout) +
        new TextDecoder().decode(verify.stderr);
      assert.equal(verify.code, 0, output);
      assert.match(output, /Stichting Van Hall Larenstein/);

      const anonymous = await fetch(`${service.url}/history.git/info/refs?service=git-upload-pack`);
      assert.equal(anonymous.status, 401);
      await anonymous.body?.cancel();
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  }));
